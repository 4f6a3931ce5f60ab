// 活动: party members' activities — the list of a period, one activity with
// its check-ins, publishing, editing and cancelling.
import { $, el, td, str, field, flash, onSubmit, onClick } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { cstTime, fmtTime, fmtShort, todayCST, addDays } from '../lib/format.js';
import { label, codes } from '../lib/labels.js';

const view = { filter: {}, cursor: '', rows: new Map(), seq: 0, current: '' };

const cancelled = (a) => !!a.cancelled;

function stateText(a) {
  if (cancelled(a)) return el('span', { class: 'tag bad', text: '已取消' });
  const now = Date.now();
  if (Date.parse(a.ends_at) < now) return el('span', { class: 'tag', text: '已结束' });
  if (Date.parse(a.starts_at) <= now) return el('span', { class: 'tag ok', text: '进行中' });
  return el('span', { class: 'tag warn', text: '未开始' });
}

function row(a) {
  const tr = el('tr', { class: 'clickable' + (cancelled(a) ? ' inactive' : ''), tabindex: 0, 'data-id': a.id },
    el('td', { class: 'nowrap', text: fmtShort(a.starts_at) }), el('td', { class: 'nowrap', text: fmtShort(a.ends_at) }), td(a.title),
    el('td', { class: 'nowrap', text: label('activity_kind', a.kind) }), el('td', { class: 'nowrap', text: a.community }), td(stateText(a)));
  if (a.id === view.current) tr.classList.add('selected');
  return tr;
}

function readFilter() {
  const fd = new FormData($('activity-filter'));
  return { from: str(fd.get('from')), to: str(fd.get('to')), community: str(fd.get('community')), kind: str(fd.get('kind')) };
}

function search() {
  view.filter = readFilter();
  view.cursor = '';
  view.rows = new Map();
  $('activity-rows').replaceChildren();
  $('activity-total').textContent = '';
  return loadMore();
}

async function loadMore() {
  const seq = ++view.seq;
  const page = await api('GET', '/admin/activities', { query: Object.assign({}, view.filter, { limit: '50', cursor: view.cursor }) });
  if (seq !== view.seq) return;
  for (const a of page.items || []) {
    if (view.rows.has(a.id)) continue;
    view.rows.set(a.id, a);
    $('activity-rows').append(row(a));
  }
  view.cursor = page.next_cursor || '';
  $('activity-more').hidden = !view.cursor;
  $('activity-empty').hidden = view.rows.size > 0;
  const n = $('activity-rows').children.length;
  $('activity-total').textContent = page.total !== undefined ? `共 ${page.total} 次，已显示 ${n} 次` : `已显示 ${n} 次`;
}

function replaceRow(a) {
  view.rows.set(a.id, Object.assign({}, view.rows.get(a.id), a));
  for (const tr of $('activity-rows').children) if (tr.dataset.id === a.id) tr.replaceWith(row(view.rows.get(a.id)));
}

async function openActivity(id) {
  view.current = id;
  const a = await api('GET', '/admin/activities/' + enc(id));
  if (view.current !== id) return;
  replaceRow(a);
  $('activity-title').textContent = a.title;
  const dl = $('activity-fields');
  dl.replaceChildren();
  field(dl, '状态', stateText(a));
  field(dl, '类型', label('activity_kind', a.kind));
  field(dl, '社区', a.community);
  field(dl, '时间', `${fmtTime(a.starts_at)} 至 ${fmtTime(a.ends_at)}`);
  if (cancelled(a)) field(dl, '取消', `${fmtTime(a.cancelled_at)}：${a.cancel_reason || '—'}`);
  field(dl, '发布时间', fmtTime(a.created_at));
  const list = a.checkins || [];
  $('checkin-count').textContent = `${list.length} 人`;
  $('checkin-rows').replaceChildren(...(list.length ? list.map((c) => el('tr', null, td(c.name || '—'), td(c.branch_name || '—'), td(fmtTime(c.at))))
    : [el('tr', null, el('td', { colspan: 3, class: 'muted', text: '还没有党员签到。' }))]));
  $('activity-cancel').hidden = cancelled(a);
  $('activity-edit').hidden = cancelled(a);
  $('activity-detail').hidden = false;
  $('activity-detail').dataset.id = a.id;
  view.shown = a;
  for (const tr of $('activity-rows').children) tr.classList.toggle('selected', tr.dataset.id === a.id);
}

// localTime is an RFC 3339 time as a datetime-local value in Beijing time.
function localTime(s) {
  const d = new Date(Date.parse(s) + 8 * 3600000);
  return isNaN(d) ? '' : d.toISOString().slice(0, 16);
}

function openForm(a) {
  const form = $('activity-form');
  form.reset();
  const f = form.elements;
  f.id.value = a ? a.id : '';
  $('activity-form-title').textContent = a ? `编辑活动：${a.title}` : '发布党员活动';
  f.kind.disabled = !!a; // the kind of an activity stays what it was published as
  if (a) {
    f.title.value = a.title;
    f.kind.value = a.kind;
    f.community.value = a.community;
    f.starts_at.value = localTime(a.starts_at);
    f.ends_at.value = localTime(a.ends_at);
  }
  form.hidden = false;
  f.title.focus();
}

// labelled fills the kind menus with the server's words.
export function labelled() {
  const kinds = codes('activity_kind').map((k) => el('option', { value: k, text: label('activity_kind', k) }));
  $('a-kind').replaceChildren(el('option', { value: '', text: '全部' }), ...kinds.map((o) => o.cloneNode(true)));
  $('af-kind').replaceChildren(...kinds);
}

export function wire() {
  const today = todayCST();
  const f = $('activity-filter').elements;
  f.from.value = addDays(today, -60);
  f.to.value = addDays(today, 60);
  onSubmit($('activity-filter'), search);
  onClick($('activity-more'), loadMore);
  $('activity-new').addEventListener('click', () => openForm(null));
  $('activity-form-close').addEventListener('click', () => { $('activity-form').hidden = true; });
  $('activity-edit').addEventListener('click', () => openForm(view.shown));
  $('activity-close').addEventListener('click', () => {
    view.current = '';
    $('activity-detail').hidden = true;
    for (const tr of $('activity-rows').children) tr.classList.remove('selected');
  });
  const rows = $('activity-rows');
  const open = (tr) => openActivity(tr.dataset.id).catch((e) => flash(e.message, true));
  rows.addEventListener('click', (ev) => { const tr = ev.target.closest('tr[data-id]'); if (tr) open(tr); });
  rows.addEventListener('keydown', (ev) => { const tr = ev.target.closest('tr[data-id]'); if (tr && ev.key === 'Enter') open(tr); });
  onSubmit($('activity-form'), async (fd, form) => {
    const id = str(fd.get('id'));
    const title = str(fd.get('title'));
    const body = {
      title, community: str(fd.get('community')),
      starts_at: cstTime(fd.get('starts_at')), ends_at: cstTime(fd.get('ends_at')),
    };
    if (id) {
      const a = await api('PATCH', '/admin/activities/' + enc(id), { json: body });
      flash(`活动“${title}”已保存。`);
      form.hidden = true;
      if (a && a.id) replaceRow(a);
      await openActivity(id);
    } else {
      body.kind = str(fd.get('kind'));
      const res = await api('POST', '/admin/activities', { json: body });
      flash(`活动“${title}”已发布。`);
      form.hidden = true;
      await search();
      await openActivity(res.id);
    }
  });
  onSubmit($('activity-cancel'), async (fd, form) => {
    const id = $('activity-detail').dataset.id;
    await api('POST', `/admin/activities/${enc(id)}/cancel`, { json: { reason: str(fd.get('reason')) } });
    form.reset();
    flash('活动已取消。');
    await openActivity(id);
  });
}

export function show(args, query, first) {
  const loads = [];
  if (first) loads.push(search());
  if (args[0]) loads.push(openActivity(args[0]));
  return Promise.all(loads);
}
