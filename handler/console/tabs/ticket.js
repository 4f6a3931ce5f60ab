// One ticket in 工单: its fields, the photos before and after side by side,
// the steps staff take (派遣 with the picker, 驳回, 延期, 核查, 督办, 挂账,
// 恢复) and the timeline. Opened by case number or id, from a row, the map
// or a link (#/tickets/20261207-0042). Who reported it is shown masked;
// dispatchers and admins may reveal it (查看完整信息, recorded in the access
// trail) and blur parts of its photos (打码, lib/redact.js). A leader reads
// the ticket only: the server masks its names, the page offers no step.
import { $, el, field, flash, errorText, onSubmit, onClick, confirmClick, str } from '../lib/dom.js';
import { api, enc, photoURL } from '../lib/api.js';
import { fmtTime, timeLeft } from '../lib/format.js';
import { label, OPEN } from '../lib/labels.js';
import { categoryName, gridName, statusTag, ref } from '../lib/state.js';
import * as sheet from './print.js';
import { flags } from '../lib/marks.js';
import { can } from '../lib/roles.js';
import * as redact from '../lib/redact.js';

let cur = { id: '', ref: '' };
let shown = null; // the ticket on screen
let hooks = { updated: () => {}, setAddress: () => {}, hashOf: () => '' };
let revealed = null; // {id, who}: the identity revealed for the ticket on screen
// A redacted photo keeps its signed URL (the same for an hour, cached
// as immutable): a photo blurred here is asked for again with a mark the
// server ignores.
const fresh = new Map(); // photo id → the time it was blurred here

function src(p, u) {
  const url = photoURL(u);
  if (!url || !fresh.has(p.id)) return url;
  return url + (url.includes('?') ? '&' : '?') + 'redacted=' + fresh.get(p.id);
}

// current is the id of the ticket open, or ''.
export function current() { return cur.id; }

// currentRef is its case number (or id), for the address.
export function currentRef() { return cur.ref; }

function actorText(a) {
  if (!a) return '';
  const role = label('role', a.role);
  return a.name ? `${role} ${a.name}` : role;
}

function assigneeText(a) {
  if (!a || !a.id) return '未指派';
  return a.name ? `${a.name}（${label('role', a.role)}）` : label('role', a.role);
}

// photoColumn is one side of before/after: the first photo large, the
// others small under it, each a link to the full image.
function photoColumn(title, photos, none) {
  const fig = el('figure', { class: 'ba-col' }, el('figcaption', { text: title }));
  const ok = (photos || []).filter((p) => photoURL(p.url));
  if (!ok.length) {
    fig.append(el('div', { class: 'ba-none muted', text: none }));
    return fig;
  }
  const [first, ...rest] = ok;
  fig.append(el('a', { href: src(first, first.url), target: '_blank', rel: 'noopener noreferrer', title: '查看大图' },
    el('img', { class: 'ba-big', src: src(first, first.url), alt: title, 'data-photo': first.id })));
  if (rest.length) {
    fig.append(el('div', { class: 'ba-thumbs' }, ...rest.map((p) => el('a', { href: src(p, p.url), target: '_blank', rel: 'noopener noreferrer', title: '查看大图' },
      el('img', { src: src(p, p.thumbnail_url || p.url), alt: title, loading: 'lazy', 'data-photo': p.id })))));
  }
  // 打码: one button per photo, for those who may blur them.
  if (can('identify')) {
    fig.append(el('div', { class: 'ba-redact', 'data-can': 'identify' }, ...ok.map((p, i) => el('button', {
      type: 'button', class: 'link', 'data-redact': p.id, text: ok.length > 1 ? `打码第 ${i + 1} 张` : '打码',
      title: '框出人脸、车牌、门牌等，保存后所有人看到的都是打码后的照片',
      onclick: () => redact.open({ id: p.id, url: src(p, p.url), title }, async (res) => {
        fresh.set(p.id, Date.parse(res.redacted_at) || Date.now());
        flash('照片已打码；居民、处置人员和 Open311 此后看到的都是打码后的照片。');
        if (cur.id) await open(cur.ref, cur.id);
      }),
    }))));
  }
  return fig;
}

// whoLabel names the person behind a ticket by how it came in.
function whoLabel(t) {
  if (t.source === 'hotline') return '来电人';
  if (t.source === 'open311') return '提交人';
  return '反映人';
}

// identity is who reported the ticket: masked as the server gives it, with
// 查看完整信息 for dispatchers and admins; once revealed, in full.
function identity(t) {
  if (revealed && revealed.id === t.id) {
    const who = revealed.who;
    const parts = [];
    if (who.caller) parts.push(`${who.caller.name || ''} ${who.caller.phone || ''}`.trim());
    const s = who.submitter;
    if (s) {
      const name = `${s.last_name || ''}${s.first_name || ''}`;
      parts.push(...[name, s.phone, s.email, s.device_id && `设备 ${s.device_id}`, s.account_id && `账号 ${s.account_id}`,
        s.key_name && `经由 ${s.key_name}`].filter(Boolean));
    }
    if (who.reporter) parts.push(`居民账号 ${who.reporter.id}`);
    return el('span', { 'data-revealed': t.id }, parts.join('；') || '无可查看的身份信息（如居民已注销账号）',
      el('small', { class: 'muted', text: '（已记入访问记录）' }));
  }
  const masked = t.caller ? `${t.caller.name || ''} ${t.caller.phone || ''}`.trim() : '';
  // A leader's view carries no caller at all; a dispatcher's a hotline
  // ticket without one is a call that left no name or number.
  if (!can('identify')) return el('span', { 'data-masked': t.id }, masked || '（身份已隐藏）');
  if (!masked && t.source === 'hotline') return el('span', { class: 'muted', text: '（来电人未留姓名、电话）' });
  const text = masked || '（身份已隐藏）';
  const b = el('button', { type: 'button', class: 'link', 'data-reveal': t.id, text: '查看完整信息' });
  const id = t.id;
  confirmClick(b, '确认查看？', async () => {
    const who = await api('POST', `/admin/tickets/${enc(id)}/reveal`);
    if (cur.id !== id) return;
    revealed = { id, who };
    if (shown && shown.id === id) render(shown);
  });
  return el('span', { 'data-masked': t.id }, text, text ? ' ' : '', b,
    el('small', { class: 'muted', text: ' 此次查看将记入访问记录' }));
}

function render(t) {
  // Another ticket starts at its top; the same one keeps the clerk's place.
  if (!shown || shown.id !== t.id) $('ticket-detail').scrollTop = 0;
  shown = t;
  $('ticket-caseno').textContent = ref(t);
  $('ticket-link').setAttribute('href', hooks.hashOf(ref(t), {}));
  const held = $('ticket-held');
  held.hidden = !t.held;
  held.textContent = t.held ? `待人工审核：${t.held_reason || '自动筛查未能确定，请人工核实'}。核实后可派遣，或驳回并说明理由。` : '';

  const dl = $('ticket-fields');
  dl.replaceChildren();
  field(dl, '状态', [statusTag(t.status), ...flags(t)]);
  field(dl, '类别', `${categoryName(t.category)}（${t.category}）`);
  field(dl, '来源', label('source', t.source));
  field(dl, '描述', t.description);
  field(dl, '地址', t.address);
  field(dl, '网格', t.grid_id ? `${gridName(t.grid_id)}${t.community ? '（' + t.community + '）' : ''}` : '不在任何网格内');
  const a = t.assignee;
  field(dl, '处置人', a && a.id ? `${assigneeText(a)}${a.phone ? ' ' + a.phone : ''}` : '未指派');
  const due = t.due_at || '';
  const running = OPEN.includes(t.status) && !['deferred', 'submitted'].includes(t.status);
  if (due) field(dl, '处置时限', el('span', { class: t.overdue ? 'bad' : '' }, fmtTime(due), running ? `（${timeLeft(due)}）` : ''));
  field(dl, whoLabel(t), identity(t));
  field(dl, '反映人数', t.reporters > 1 ? String(t.reporters) : '');
  field(dl, '合并到', t.duplicate_of);
  field(dl, '驳回理由', t.reject_reason);
  field(dl, '上报时间', fmtTime(t.created_at));
  if (t.location) field(dl, '坐标', el('small', { class: 'muted', text: `${Number(t.location.lat).toFixed(6)}, ${Number(t.location.lng).toFixed(6)}（${t.location.coord_type === 'gcj02' ? 'GCJ-02' : 'WGS-84'}）` }));
  field(dl, '编号', el('code', { class: 'muted', text: t.id }));

  $('ticket-photos').replaceChildren(
    photoColumn('处置前（上报照片）', t.photos, '无照片'),
    photoColumn('处置后', t.resolution && t.resolution.photos, t.resolution ? '无照片' : '尚未处置'));

  const res = $('ticket-resolution');
  res.replaceChildren();
  if (t.resolution) {
    const rdl = el('dl', { class: 'fields' });
    field(rdl, '处置说明', t.resolution.note);
    field(rdl, '完成时间', fmtTime(t.resolution.resolved_at));
    res.append(el('h3', { text: '处置结果' }), rdl);
  }
  if (t.feedback) {
    const fdl = el('dl', { class: 'fields' });
    field(fdl, '是否满意', t.feedback.satisfied ? '满意' : '不满意');
    field(fdl, '评分', `${t.feedback.rating} / 5`);
    field(fdl, '留言', t.feedback.comment);
    res.append(el('h3', { text: '居民评价' }), fdl);
  }

  const tl = $('ticket-timeline');
  tl.replaceChildren();
  for (const ev of t.timeline || []) {
    const who = actorText(ev.actor);
    const to = ev.assignee ? `→ ${actorText(ev.assignee)}` : '';
    tl.append(el('li', null,
      el('time', { datetime: ev.at, text: fmtTime(ev.at) }), ' ',
      el('strong', { text: label('event', ev.type) || ev.name }), ' ',
      ev.status ? statusTag(ev.status) : null,
      who ? el('span', { class: 'muted', text: ' · ' + who }) : null,
      to ? el('span', { class: 'muted', text: ' ' + to }) : null,
      ev.note ? el('div', { class: 'note', text: ev.note }) : null));
  }
  if (!tl.children.length) tl.append(el('li', { class: 'muted', text: '暂无记录' }));

  // Which steps this status allows; the server decides in the end (409).
  // A report held for review may be dispatched or rejected.
  const s = t.status;
  const ext = t.extension && t.extension.status === 'requested' ? t.extension : null;
  $('act-extension').hidden = !ext;
  if (ext) $('ext-text').textContent = `处置人申请延期 ${ext.hours} 小时（${fmtTime(ext.requested_at)}）：${ext.reason || ''}`;
  $('verify-form').hidden = s !== 'resolved';
  $('act-dispatch').hidden = !(['pending', 'dispatched', 'in_progress'].includes(s) || t.held);
  $('urge-form').hidden = !['dispatched', 'in_progress'].includes(s);
  $('defer-form').hidden = !['pending', 'dispatched', 'in_progress'].includes(s);
  $('resume-form').hidden = s !== 'deferred';
  $('reject-form').hidden = !['submitted', 'pending'].includes(s);
  $('dispatch-title').textContent = ['dispatched', 'in_progress'].includes(s) ? '改派' : '派遣';
  for (const f of $('ticket-actions').querySelectorAll('[data-error]')) f.textContent = '';
  for (const tr of $('ticket-rows').children) tr.classList.toggle('selected', tr.dataset.id === t.id);
  sheet.build(t);
}

// refresh shows a newer state of the open ticket.
export function refresh(t) {
  if (t.id !== cur.id) return;
  const wasDispatch = !$('act-dispatch').hidden;
  render(t);
  if (can('handle') && !$('act-dispatch').hidden && !wasDispatch) loadCandidates(t.id);
}

// open shows the ticket named by r (a case number or an id); id, when the
// caller knows it, shows what the list has at once.
export async function open(r, id, print) {
  if (!id || id !== cur.id) revealed = null; // another ticket: masked again
  cur = { id: id || '', ref: r };
  document.body.classList.add('has-sheet');
  try {
    const got = await api('GET', '/admin/tickets/' + enc(r));
    if (cur.ref !== r) return;
    cur = { id: got.id, ref: ref(got) };
    if (revealed && revealed.id !== got.id) revealed = null;
    hooks.updated(got);
    render(got);
    $('ticket-detail').hidden = false;
    if (cur.ref !== r) hooks.setAddress(cur.ref, print);
    if (print) sheet.showView();
    // Side by side (wide screens) the detail is in view already.
    else if (window.innerWidth < 1100) $('ticket-detail').scrollIntoView({ block: 'nearest' });
    if (can('handle') && !$('act-dispatch').hidden) await loadCandidates(got.id);
  } catch (e) {
    if (cur.ref !== r) return;
    if (e.status === 404) flash(`没有案件编号或编号为“${r}”的工单`, true);
    else if (e.status !== 401) flash('读取工单失败：' + errorText(e), true);
    close(true);
  }
}

// close hides the detail; the address keeps the list's filter.
export function close(keepAddress) {
  cur = { id: '', ref: '' };
  shown = null;
  revealed = null;
  redact.close();
  $('ticket-detail').hidden = true;
  document.body.classList.remove('has-sheet');
  sheet.hideView();
  for (const tr of $('ticket-rows').children) tr.classList.remove('selected');
  if (!keepAddress) hooks.setAddress('');
}

// The staff's steps on a ticket.
export const STEPS = {
  dispatch: (id, json) => api('POST', `/admin/tickets/${enc(id)}/dispatch`, { json }),
  reject: (id, json) => api('POST', `/admin/tickets/${enc(id)}/reject`, { json }),
  urge: (id, json) => api('POST', `/admin/tickets/${enc(id)}/urge`, { json }),
  defer: (id, json) => api('POST', `/admin/tickets/${enc(id)}/defer`, { json }),
  resume: (id, json) => api('POST', `/admin/tickets/${enc(id)}/resume`, { json }),
  extension: (id, json) => api('POST', `/admin/tickets/${enc(id)}/extension`, { json }),
  verify: (id, json) => api('POST', `/admin/tickets/${enc(id)}/verify`, { json }),
};

// act runs one staff step on the open ticket and shows the result.
async function act(step, body, done) {
  const id = cur.id;
  const t = await STEPS[step](id, body);
  if (t && t.id) hooks.updated(t);
  flash(done);
  // The clerk may have opened another ticket while this step was on its
  // way: read this one again only if it is still the one shown.
  if (cur.id === id) await open(cur.ref, id);
}

// ownPlace tells whether a candidate serves the ticket's own grid (the
// server's own: a worker of the grid) or, for a party member, its
// community.
function ownPlace(c, t) {
  return !!c.own || (c.role === 'party_member' && !!t.community && (c.communities || []).includes(t.community));
}

function placeText(c) {
  if (c.grid_codes && c.grid_codes.length) return c.grid_codes.map((g, i) => (c.grid_names || [])[i] || gridName(g)).join('、');
  if (c.communities && c.communities.length) return c.communities.join('、');
  return '—';
}

async function loadCandidates(id) {
  const box = $('cand-rows');
  $('cand-error').textContent = '';
  delete box.dataset.loaded;
  // The same ticket's rows stay until the new ones come, so the page does
  // not jump under the clerk's pointer.
  if (box.dataset.ticket !== id) {
    box.dataset.ticket = id;
    box.replaceChildren(el('tr', null, el('td', { colspan: 6, class: 'muted', text: '正在读取可派遣人员…' })));
  }
  let page;
  try {
    page = await api('GET', `/admin/tickets/${enc(id)}/candidates`);
  } catch (e) {
    box.replaceChildren();
    $('cand-error').textContent = '读取可派遣人员失败：' + errorText(e);
    return;
  }
  if (cur.id !== id || !shown) return;
  const t = shown;
  const holder = (t.assignee || {}).id;
  // The ticket's own grid (or community) first, each group as the server
  // ordered it.
  const items = (page.items || []).map((c, i) => ({ c, i, own: ownPlace(c, t) }))
    .sort((x, y) => (y.own - x.own) || (x.i - y.i));
  // Beyond the ticket's own grid or community, the rest of the city is
  // folded away until asked for (or typed in the name filter).
  const owners = items.filter((x) => x.own).length;
  const folded = owners > 0 && items.length > owners;
  box.dataset.folded = folded ? '1' : '';
  box.replaceChildren(...items.map(({ c, own }) => {
    const b = el('button', { type: 'button', class: 'small secondary', 'data-candidate': c.id, text: c.id === holder ? '当前处置人' : '派遣' });
    if (c.id === holder) b.disabled = true;
    else {
      // Asked on the page first, so that a stray click dispatches nobody;
      // someone off duty is named as such.
      const q = c.on_duty ? `确认派给${c.name}？` : `${c.name}不在岗，仍派遣？`;
      const body = c.on_duty ? { assignee_id: c.id } : { assignee_id: c.id, confirm_off_duty: true };
      confirmClick(b, q, () => act('dispatch', body, `已派遣给 ${c.name}${c.on_duty ? '' : '（不在岗）'}。`));
    }
    const place = el('td', null, own ? el('span', { class: 'tag ok', text: c.role === 'party_member' ? '本社区' : '本网格' }) : null, placeText(c));
    return el('tr', { class: (c.on_duty ? '' : 'off') + (own ? ' own' : ''), 'data-own': own ? '1' : '0', 'data-person': c.id },
      el('td', { class: 'nowrap', text: c.name || '（未知姓名）' }), el('td', { class: 'nowrap', text: label('role', c.role) }), place,
      el('td', { class: 'nowrap' }, c.on_duty ? el('span', { class: 'tag ok', text: '在岗' }) : el('span', { class: 'tag', text: '不在岗' })),
      el('td', { text: String(c.open_tasks === undefined ? '—' : c.open_tasks) }), el('td', null, b));
  }));
  if (!items.length) box.append(el('tr', null, el('td', { colspan: 6, class: 'muted', text: '没有可派遣的人员：请先在“人员”中为该网格或社区添加网格员或在职党员。' })));
  if (folded) {
    box.append(el('tr', { class: 'unfold' }, el('td', { colspan: 6 },
      el('button', { type: 'button', class: 'link', text: `显示其他 ${items.length - owners} 人（其他网格、社区）`, onclick: () => { box.dataset.folded = ''; filterCandidates(); } }))));
  }
  filterCandidates();
  box.dataset.loaded = id; // the rows are this ticket's
}

// filterCandidates shows the picker's rows whose name holds what is typed
// in its filter; with nothing typed, the rows of the ticket's own grid (and
// the rest once unfolded).
function filterCandidates() {
  const box = $('cand-rows');
  const text = str($('cand-filter').value);
  for (const tr of box.children) {
    if (tr.classList.contains('unfold')) { tr.hidden = !!text || !box.dataset.folded; continue; }
    if (!tr.dataset.person) continue;
    const name = tr.firstChild.textContent;
    tr.hidden = text ? !name.includes(text) : (box.dataset.folded === '1' && tr.dataset.own !== '1');
  }
}

export function wire(h) {
  hooks = h;
  $('ticket-close').addEventListener('click', () => close());
  $('ticket-print').addEventListener('click', () => {
    hooks.setAddress(cur.ref, true);
    sheet.showView();
  });
  $('ticket-link').addEventListener('click', (ev) => {
    // The link is there to be copied or opened in a new tab; a plain click
    // copies it.
    if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    const url = location.origin + location.pathname + $('ticket-link').getAttribute('href');
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(() => flash('已复制本工单的链接。'), () => flash(url));
    else flash(url);
  });
  sheet.wire({ back: () => hooks.setAddress(cur.ref) });
  onClick($('cand-reload'), () => loadCandidates(cur.id));
  $('cand-filter').addEventListener('input', filterCandidates);
  onSubmit($('reject-form'), async (fd, form) => {
    await act('reject', { reason: str(fd.get('reason')) }, '已驳回。');
    form.reset();
  });
  onSubmit($('urge-form'), async (fd, form) => {
    await act('urge', { note: str(fd.get('note')) }, '已督办，处置人会收到提醒。');
    form.reset();
  });
  onSubmit($('defer-form'), async (fd, form) => {
    await act('defer', { reason: str(fd.get('reason')) }, '已挂账，计时暂停。');
    form.reset();
  });
  onSubmit($('resume-form'), () => act('resume', {}, '已恢复办理。'));
  onSubmit($('extension-form'), async (fd, form, by) => {
    const approve = !!by && by.value === 'true';
    const note = str(fd.get('note'));
    await act('extension', note ? { approve, note } : { approve }, approve ? '已批准延期。' : '已不批准延期。');
    form.reset();
  });
  onSubmit($('verify-form'), async (fd, form, by) => {
    const passed = !!by && by.value === 'true';
    await act('verify', { passed, note: str(fd.get('note')) }, passed ? '核查通过，已结案。' : '核查不通过，已返工给原处置人。');
    form.reset();
  });
}
