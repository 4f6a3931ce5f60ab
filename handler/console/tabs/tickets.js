// 工单: the staff's list of tickets with its filters, one ticket's detail
// and the steps staff take on it, and the 12345 hotline form.
import { $, el, td, str, field, flash, errorText, showError, onSubmit, onClick, confirmClick, numberIn } from '../lib/dom.js';
import { api, enc, download, photoURL } from '../lib/api.js';
import { fmtShort, fmtTime, timeLeft, todayCST } from '../lib/format.js';
import { STATUS, OPEN, EVENTS, ROLES, SOURCES } from '../lib/labels.js';
import { categoryName, gridName, statusTag } from '../lib/state.js';

const state = {
  tickets: new Map(), // id → ticket, as listed or read
  listed: new Set(), // ids of the rows of the ticket list
  filter: {},
  cursor: '',
  ticketSeq: 0,
  current: '',
};

function photoStrip(photos) {
  const box = el('div', { class: 'photos' });
  for (const ph of photos || []) {
    const full = photoURL(ph.url);
    const thumb = photoURL(ph.thumbnail_url || ph.url);
    if (!full || !thumb) continue;
    box.append(el('a', { href: full, target: '_blank', rel: 'noopener noreferrer', title: '查看原图' },
      el('img', { src: thumb, alt: '现场照片', loading: 'lazy' })));
  }
  return box;
}

function assigneeText(a) {
  if (!a || !a.id) return '未指派';
  const role = ROLES[a.role] || a.role || '';
  return a.name ? `${a.name}（${role}）` : role;
}

// assigneeCell is the list's 处置人: the name, its role on hover.
function assigneeCell(a) {
  if (!a || !a.id) return el('td', { class: 'muted nowrap', text: '未指派' });
  const role = ROLES[a.role] || a.role || '';
  return el('td', { class: 'nowrap', title: role, text: a.name || role });
}

function dueAt(t) { return t.due_at || ''; }

function flags(t) {
  const out = [];
  if (t.overdue) out.push(['超期', 'bad']);
  if (t.escalated) out.push(['已上报', 'bad']);
  if (t.held) out.push(['待审核', 'warn']);
  if (t.queue === 'staff') out.push(['待人工派遣', 'warn']);
  if (t.extension && t.extension.status === 'requested') out.push(['申请延期', 'warn']);
  if (t.pool) out.push(['党员可认领', '']);
  if (t.reporters > 1) out.push([`${t.reporters} 人反映`, '']);
  if (t.returns > 0) out.push([`退回 ${t.returns} 次`, '']);
  return out.map(([text, cls]) => el('span', { class: 'tag ' + cls, text }));
}

function dueCell(t) {
  const due = dueAt(t);
  if (!due) return td('—');
  const open = OPEN.includes(t.status);
  return td(fmtShort(due), open && t.status !== 'deferred' ? el('div', { class: t.overdue || Date.parse(due) < Date.now() ? 'left bad' : 'left', text: timeLeft(due) }) : null);
}

function ticketRow(t) {
  const tr = el('tr', { class: 'clickable' + (t.overdue ? ' overdue' : ''), tabindex: 0, 'data-id': t.id },
    el('td', { class: 'nowrap', text: fmtShort(t.created_at) }), el('td', { class: 'nowrap', text: categoryName(t.category) }), td(statusTag(t.status)),
    el('td', { class: 'nowrap', text: SOURCES[t.source] || t.source || '—' }), td(t.address || '—'), el('td', { class: 'nowrap', text: gridName(t.grid_id) }),
    assigneeCell(t.assignee), dueCell(t), td(flags(t)));
  if (t.id === state.current) tr.classList.add('selected');
  return tr;
}

function replaceRow(t) {
  for (const tr of $('ticket-rows').children) {
    if (tr.dataset.id === t.id) { tr.replaceWith(ticketRow(t)); return; }
  }
}

function readTicketFilter() {
  const fd = new FormData($('ticket-filter'));
  const q = {};
  for (const k of ['q', 'status', 'grid', 'category', 'source', 'from', 'to', 'sort']) q[k] = str(fd.get(k));
  q.overdue = fd.get('overdue') ? 'true' : '';
  q.queue = fd.get('queue') ? 'staff' : '';
  return q;
}

function searchTickets() {
  state.filter = readTicketFilter();
  state.cursor = '';
  state.listed.clear();
  $('ticket-rows').replaceChildren();
  $('ticket-more').hidden = true;
  $('ticket-empty').hidden = true;
  $('ticket-total').textContent = '';
  return loadTickets();
}

async function loadTickets() {
  const seq = ++state.ticketSeq;
  const page = await api('GET', '/admin/tickets', { query: Object.assign({}, state.filter, { limit: '50', cursor: state.cursor }) });
  if (seq !== state.ticketSeq) return; // a newer search replaced this one
  for (const t of page.items || []) {
    if (state.listed.has(t.id)) continue; // moved up a page since the last one was read
    state.listed.add(t.id);
    // A ticket opened before the list came keeps its fuller detail.
    const known = Object.assign({}, t, state.tickets.get(t.id));
    state.tickets.set(t.id, known);
    $('ticket-rows').append(ticketRow(known));
  }
  state.cursor = page.next_cursor || '';
  $('ticket-more').hidden = !state.cursor;
  $('ticket-empty').hidden = state.listed.size > 0;
  const shown = $('ticket-rows').children.length;
  $('ticket-total').textContent = page.total !== undefined ? `共 ${page.total} 件，已显示 ${shown} 件` : `已显示 ${shown} 件`;
}

async function exportTickets() {
  const res = await api('GET', '/admin/tickets/export.xlsx', { query: readTicketFilter(), raw: true });
  await download(res, `工单清单_${todayCST()}.xlsx`);
}

function actorText(a) {
  if (!a) return '';
  const role = ROLES[a.role] || a.role || '';
  return a.name ? `${role} ${a.name}` : role;
}

function renderTicket(t) {
  const dl = $('ticket-fields');
  dl.replaceChildren();
  field(dl, '编号', el('code', { text: t.id }));
  field(dl, '状态', [statusTag(t.status), ...flags(t)]);
  field(dl, '类别', `${categoryName(t.category)}（${t.category}）`);
  field(dl, '来源', SOURCES[t.source] || t.source);
  field(dl, '描述', t.description);
  field(dl, '地址', t.address);
  if (t.location) field(dl, '位置', `${Number(t.location.lat).toFixed(6)}, ${Number(t.location.lng).toFixed(6)}（${t.location.coord_type === 'gcj02' ? 'GCJ-02' : 'WGS-84'}）`);
  field(dl, '网格', t.grid_id ? `${gridName(t.grid_id)}（${t.grid_id}）` : '无网格');
  const a = t.assignee;
  field(dl, '处置人', a && a.id ? `${assigneeText(a)}${a.phone ? ' ' + a.phone : ''}` : '未指派');
  const due = dueAt(t);
  if (due) field(dl, '处置时限', el('span', { class: t.overdue ? 'bad' : '' }, fmtTime(due), OPEN.includes(t.status) && t.status !== 'deferred' ? `（${timeLeft(due)}）` : ''));
  if (t.caller) field(dl, '来电人', `${t.caller.name || ''} ${t.caller.phone || ''}`.trim());
  if (t.caller_name || t.caller_phone) field(dl, '来电人', `${t.caller_name || ''} ${t.caller_phone || ''}`.trim());
  field(dl, '反映人数', t.reporters > 1 ? String(t.reporters) : '');
  field(dl, '合并到', t.duplicate_of);
  field(dl, '驳回理由', t.reject_reason);
  field(dl, '上报时间', fmtTime(t.created_at));
  field(dl, '更新时间', fmtTime(t.updated_at));

  $('ticket-photos').replaceChildren(
    el('h3', { text: '现场照片' }),
    (t.photos || []).length ? photoStrip(t.photos) : el('p', { class: 'muted', text: '无照片' }));

  const res = $('ticket-resolution');
  res.replaceChildren();
  if (t.resolution) {
    const rdl = el('dl', { class: 'fields' });
    field(rdl, '处置说明', t.resolution.note);
    field(rdl, '完成时间', fmtTime(t.resolution.resolved_at));
    res.append(el('h3', { text: '处置结果' }), rdl, photoStrip(t.resolution.photos));
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
      el('strong', { text: EVENTS[ev.type] || ev.type }), ' ',
      ev.status ? statusTag(ev.status) : null,
      who ? el('span', { class: 'muted', text: ' · ' + who }) : null,
      to ? el('span', { class: 'muted', text: ' ' + to }) : null,
      ev.note ? el('div', { class: 'note', text: ev.note }) : null));
  }
  if (!tl.children.length) tl.append(el('li', { class: 'muted', text: '暂无记录' }));

  // Which steps this status allows; the server decides in the end (409).
  const s = t.status;
  const ext = t.extension && t.extension.status === 'requested' ? t.extension : null;
  $('act-extension').hidden = !ext;
  if (ext) $('ext-text').textContent = `处置人申请延期 ${ext.hours} 小时（${fmtTime(ext.requested_at)}）：${ext.reason || ''}`;
  $('verify-form').hidden = s !== 'resolved';
  $('act-dispatch').hidden = !['pending', 'dispatched', 'in_progress'].includes(s);
  $('urge-form').hidden = !['dispatched', 'in_progress'].includes(s);
  $('defer-form').hidden = !['pending', 'dispatched', 'in_progress'].includes(s);
  $('resume-form').hidden = s !== 'deferred';
  $('reject-form').hidden = !['submitted', 'pending'].includes(s);
  $('act-dispatch').querySelector('h3').firstChild.textContent = s === 'pending' ? '派遣 ' : '改派 ';
  for (const f of $('ticket-actions').querySelectorAll('[data-error]')) f.textContent = '';
  for (const tr of $('ticket-rows').children) tr.classList.toggle('selected', tr.dataset.id === t.id);
}

// readTicket is the staff's full view of a ticket: names, phone, caller.
function readTicket(id) { return api('GET', '/admin/tickets/' + enc(id)); }

async function openTicket(id) {
  state.current = id;
  const cached = state.tickets.get(id);
  if (cached) renderTicket(cached);
  $('ticket-detail').hidden = !cached;
  try {
    const fresh = await readTicket(id);
    if (state.current !== id) return;
    updated(fresh);
    $('ticket-detail').hidden = false;
    // Side by side (wide screens) the detail is in view already.
    if (window.innerWidth < 1100) $('ticket-detail').scrollIntoView({ block: 'nearest' });
    if (!$('act-dispatch').hidden) await loadCandidates(id);
  } catch (e) {
    if (e.status !== 401) flash('读取工单失败：' + errorText(e), true);
  }
}

function updated(t) {
  state.tickets.set(t.id, Object.assign({}, state.tickets.get(t.id), t));
  replaceRow(state.tickets.get(t.id));
  if (state.current === t.id) renderTicket(state.tickets.get(t.id));
}

// The staff's steps on a ticket.
const STEPS = {
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
  const id = state.current;
  const t = await STEPS[step](id, body);
  if (t && t.id) updated(t);
  flash(done);
  // The clerk may have opened another ticket while this step was on its
  // way: reopen this one only if it is still the one shown.
  if (state.current === id) await openTicket(id);
}

async function loadCandidates(id) {
  const box = $('cand-rows');
  $('cand-error').textContent = '';
  // The same ticket's rows stay until the new ones come, so the page does
  // not jump under the clerk's pointer.
  if (box.dataset.ticket !== id) {
    box.dataset.ticket = id;
    box.replaceChildren(el('tr', null, el('td', { colspan: 5, class: 'muted', text: '正在读取可派遣人员…' })));
  }
  let page;
  try {
    page = await api('GET', `/admin/tickets/${enc(id)}/candidates`);
  } catch (e) {
    box.replaceChildren();
    $('cand-error').textContent = '读取可派遣人员失败：' + errorText(e);
    return;
  }
  if (state.current !== id) return;
  const cur = (state.tickets.get(id) || {}).assignee || {};
  const items = page.items || [];
  box.replaceChildren(...items.map((c) => {
    const b = el('button', { type: 'button', class: 'small secondary', 'data-candidate': c.id, text: c.id === cur.id ? '当前处置人' : '派遣' });
    if (c.id === cur.id) b.disabled = true;
    else {
      // Asked on the page first, so that a stray click dispatches nobody.
      confirmClick(b, `确认派给${c.name}？`, () => act('dispatch', { assignee_id: c.id }, `已派遣给 ${c.name}。`));
    }
    return el('tr', { class: c.on_duty ? '' : 'off' },
      td(c.name || '（未知姓名）'), td(ROLES[c.role] || c.role || ''), td(c.on_duty ? '在岗' : '不在岗'),
      td(String(c.open_tasks === undefined ? '—' : c.open_tasks)), td(b));
  }));
  if (!items.length) box.append(el('tr', null, el('td', { colspan: 5, class: 'muted', text: '没有可派遣的人员：请先在“人员”中为该网格或社区添加网格员或在职党员。' })));
}

export function wire() {
  const statusSel = $('f-status');
  for (const [k, v] of Object.entries(STATUS)) statusSel.append(el('option', { value: k, text: v }));
  const sourceSel = $('f-source');
  for (const [k, v] of Object.entries(SOURCES)) sourceSel.append(el('option', { value: k, text: v }));
  onSubmit($('ticket-filter'), () => searchTickets());
  $('ticket-filter').addEventListener('reset', () => setTimeout(() => searchTickets().catch((e) => showError(null, e))));
  onClick($('ticket-more'), loadTickets);
  onClick($('ticket-export'), exportTickets);
  const rows = $('ticket-rows');
  rows.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr) openTicket(tr.dataset.id);
  });
  rows.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); openTicket(tr.dataset.id); }
  });
  $('ticket-close').addEventListener('click', () => {
    state.current = '';
    $('ticket-detail').hidden = true;
    for (const tr of rows.children) tr.classList.remove('selected');
    if (location.hash.startsWith('#tickets/')) history.replaceState(null, '', '#tickets');
  });
  onClick($('cand-reload'), () => loadCandidates(state.current));
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
  $('hotline-open').addEventListener('click', () => { $('hotline-form').hidden = false; $('hotline-form').elements.category.focus(); });
  $('hotline-close').addEventListener('click', () => { $('hotline-form').hidden = true; });
  onSubmit($('hotline-form'), async (fd, form) => {
    const t = await api('POST', '/admin/tickets', {
      json: {
        source: 'hotline', category: str(fd.get('category')), description: str(fd.get('description')),
        address: str(fd.get('address')),
        location: { lat: numberIn(fd.get('lat'), '纬度', -90, 90), lng: numberIn(fd.get('lng'), '经度', -180, 180), coord_type: 'wgs84' },
        caller_name: str(fd.get('caller_name')), caller_phone: str(fd.get('caller_phone')),
      },
    });
    form.reset();
    form.hidden = true;
    flash('热线工单已立案。');
    await searchTickets();
    await openTicket(t.id);
  });

}


export function show(arg, first) {
  return Promise.all([first && searchTickets(), arg && openTicket(decodeURIComponent(arg))]);
}
