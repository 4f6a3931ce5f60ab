// 工单: the staff's list of tickets — filters kept in the address (a list
// can be linked to, and every overview figure links to its list), live
// updates from the event stream, selection and batch steps. One ticket's
// detail is tabs/ticket.js, the 处置单 tabs/print.js, the hotline form
// tabs/hotline.js.
import { $, el, td, str, showError, onSubmit, onClick } from '../lib/dom.js';
import { api, enc, download } from '../lib/api.js';
import { fmtShort, timeLeft, todayCST } from '../lib/format.js';
import { label, codes, OPEN } from '../lib/labels.js';
import { on as onLive, fetchTicket } from '../lib/live.js';
import { state, categoryName, gridName, statusTag, ref } from '../lib/state.js';
import * as detail from './ticket.js';
import * as hotline from './hotline.js';
import * as batch from './batch.js';
import { flags } from '../lib/marks.js';

// The filters of the list, as the form names them and the API takes them.
const FILTERS = ['q', 'status', 'grid', 'category', 'source', 'from', 'to', 'sort', 'overdue', 'late', 'held', 'queue'];
// 在办: every status in which someone still has to act.
const ACTIVE = 'pending,dispatched,in_progress,deferred';

export const list = {
  tickets: new Map(), // id → ticket, as listed or read
  listed: new Set(), // ids of the rows
  filter: {},
  cursor: '',
  seq: 0,
  total: null, // the server's total for the filter
  capped: false,
  fresh: new Map(), // id → ticket: new ones that match, not shown yet
  updated: 0, // rows changed in place since the search
};

// ---- the filter and the address -----------------------------------------

function readFilter() {
  const fd = new FormData($('ticket-filter'));
  const q = {};
  for (const k of FILTERS) q[k] = str(fd.get(k));
  return q;
}

// writeFilter puts a filter (from the address) into the form; a status list
// the menu does not offer gets an option of its own.
function writeFilter(q) {
  const f = $('ticket-filter').elements;
  for (const k of FILTERS) {
    const v = q[k] || '';
    const input = f[k];
    if (input.type === 'checkbox') input.checked = v !== '' && v !== 'false';
    else if (input.tagName === 'SELECT' && v && ![...input.options].some((o) => o.value === v)) {
      input.append(el('option', { value: v, text: v.split(',').map((s) => label('status', s)).join('、') }));
      input.value = v;
    } else input.value = v;
  }
}

function queryOf(filter) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (filter[k]) q.set(k, filter[k]);
  return q.toString();
}

// hashOf is the address of the list with its filter, and of one ticket in
// it: #/tickets/20261207-0042?status=pending.
export function hashOf(ticketRef, filter, print) {
  const qs = queryOf(filter === undefined ? list.filter : filter);
  return '#/tickets' + (ticketRef ? '/' + enc(ticketRef) + (print ? '/print' : '') : '') + (qs ? '?' + qs : '');
}

// setAddress shows where the clerk is without loading anything again.
export function setAddress(ticketRef, print) {
  const h = hashOf(ticketRef, list.filter, print);
  if (location.hash !== h) history.replaceState(null, '', h);
}

// ---- rows ----------------------------------------------------------------

function assigneeCell(a) {
  if (!a || !a.id) return el('td', { class: 'muted nowrap', text: '未指派' });
  return el('td', { class: 'nowrap', title: label('role', a.role), text: a.name || label('role', a.role) });
}

function dueCell(t) {
  const due = t.due_at || '';
  if (!due) return td('—');
  const running = OPEN.includes(t.status) && t.status !== 'deferred' && t.status !== 'submitted';
  return el('td', { class: 'nowrap' }, fmtShort(due),
    running ? el('div', { class: t.overdue || Date.parse(due) < Date.now() ? 'left bad' : 'left', text: timeLeft(due) }) : null);
}

function ticketRow(t) {
  const pick = el('input', { type: 'checkbox', 'data-pick': t.id, 'aria-label': '选择 ' + ref(t) });
  pick.checked = batch.selected.has(t.id);
  const tr = el('tr', { class: 'clickable' + (t.overdue ? ' overdue' : ''), tabindex: 0, 'data-id': t.id, 'data-case': t.case_no || '' },
    el('td', { class: 'pick' }, pick),
    el('td', { class: 'nowrap caseno', text: t.case_no || '—' }),
    el('td', { class: 'nowrap', text: fmtShort(t.created_at) }), el('td', { class: 'nowrap', text: categoryName(t.category) }), td(statusTag(t.status)),
    el('td', { class: 'nowrap', text: label('source', t.source) || '—' }), td(t.address || '—'), el('td', { class: 'nowrap', text: gridName(t.grid_id) }),
    assigneeCell(t.assignee), dueCell(t), td(flags(t)));
  if (t.id === detail.current()) tr.classList.add('selected');
  return tr;
}

function rowOf(id) {
  for (const tr of $('ticket-rows').children) if (tr.dataset.id === id) return tr;
  return null;
}

// updated takes a newer state of a ticket (a step, an event) into the
// list's row and the detail.
export function updated(t, how) {
  const merged = Object.assign({}, list.tickets.get(t.id), t);
  list.tickets.set(t.id, merged);
  const tr = rowOf(t.id);
  if (tr) {
    const row = ticketRow(merged);
    if (tr.classList.contains('fresh')) row.classList.add('fresh'); // still new to the clerk
    if (how) row.classList.add(how);
    if (how === 'changed' && !matches(merged, list.filter)) row.classList.add('gone');
    tr.replaceWith(row);
  }
  if (list.fresh.has(t.id)) list.fresh.set(t.id, merged);
  detail.refresh(merged);
}

function showTotal() {
  const shown = $('ticket-rows').children.length;
  const total = list.total === null ? null : list.total + (list.capped ? '+' : '');
  $('ticket-total').textContent = total !== null ? `共 ${total} 件，已显示 ${shown} 件` : `已显示 ${shown} 件`;
  $('ticket-total').dataset.total = list.total === null ? '' : String(list.total);
  $('ticket-total').dataset.query = queryOf(list.filter);
  const n = list.fresh.size;
  $('ticket-news').hidden = n === 0;
  $('ticket-news').textContent = `${n} 件新工单 — 点击显示`;
  $('ticket-live-note').textContent = list.updated ? `实时更新 ${list.updated} 件` : '';
}

// ---- loading -------------------------------------------------------------

export function searchTickets() {
  list.filter = readFilter();
  list.cursor = '';
  list.listed.clear();
  list.fresh.clear();
  list.updated = 0;
  list.total = null;
  batch.clear();
  $('ticket-rows').replaceChildren();
  $('ticket-more').hidden = true;
  $('ticket-empty').hidden = true;
  showTotal();
  return loadTickets();
}

async function loadTickets() {
  const seq = ++list.seq;
  const page = await api('GET', '/admin/tickets', { query: Object.assign({}, list.filter, { limit: '50', cursor: list.cursor }) });
  if (seq !== list.seq) return; // a newer search replaced this one
  for (const t of page.items || []) {
    if (list.listed.has(t.id)) continue; // moved up a page since the last one was read
    list.listed.add(t.id);
    list.fresh.delete(t.id);
    // A ticket opened before the list came keeps its fuller detail.
    const known = Object.assign({}, t, list.tickets.get(t.id));
    list.tickets.set(t.id, known);
    $('ticket-rows').append(ticketRow(known));
  }
  list.cursor = page.next_cursor || '';
  if (page.total !== undefined) { list.total = page.total; list.capped = !!page.total_capped; }
  $('ticket-more').hidden = !list.cursor;
  $('ticket-empty').hidden = list.listed.size > 0;
  showTotal();
}

// showFresh puts the new tickets the live feed brought on top of the list,
// marked, without reading the list again (newest first), or reads it again
// in another order.
function showFresh() {
  if (list.filter.sort) {
    searchTickets().catch((e) => showError(null, e));
    return;
  }
  const fresh = [...list.fresh.values()].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const rows = $('ticket-rows');
  for (const t of fresh.reverse()) {
    if (list.listed.has(t.id)) continue;
    list.listed.add(t.id);
    const tr = ticketRow(t);
    tr.classList.add('fresh');
    rows.prepend(tr);
  }
  if (list.total !== null) list.total += fresh.length;
  list.fresh.clear();
  $('ticket-empty').hidden = list.listed.size > 0;
  showTotal();
}

// matches tells whether a ticket belongs in the list's filter, as far as
// its fields tell (the words of a search only by its case number, id,
// description and address).
function matches(t, f) {
  if (f.status && !f.status.split(',').includes(t.status)) return false;
  if (f.grid && t.grid_id !== f.grid) return false;
  if (f.category && t.category !== f.category) return false;
  if (f.source && t.source !== f.source) return false;
  if (f.overdue && !t.overdue) return false;
  if (f.held && !t.held) return false;
  if (f.late) return false; // closed late: never a new or changed open ticket
  if (f.queue && t.queue !== f.queue) return false;
  const day = t.created_at ? new Date(Date.parse(t.created_at) + 8 * 3600000).toISOString().slice(0, 10) : '';
  if (f.from && day < f.from) return false;
  if (f.to && day > f.to) return false;
  if (f.q) {
    const hay = `${t.case_no || ''} ${t.id} ${t.description || ''} ${t.address || ''}`;
    if (!f.q.split(/\s+/).every((w) => hay.includes(w))) return false;
  }
  return true;
}

// live takes an event of the feed: a listed ticket is updated in place; a
// new one that matches the filter is counted, to be shown on a click.
function live(type, data) {
  if (type === 'reset') {
    if (state.tab === 'tickets') searchTickets().catch((e) => showError(null, e));
    else list.stale = true;
    return;
  }
  const listed = list.listed.has(data.id);
  const open = detail.current() === data.id;
  if (!listed && !open && type !== 'ticket.created' && !list.fresh.has(data.id)) {
    // A ticket not on the list changed: it may have come into the filter
    // (a status list, 超期, 待审核).
    if (list.filter.status && !list.filter.status.split(',').includes(data.status)) return;
    if (list.filter.overdue && !data.overdue) return;
    if (list.filter.held && !data.held) return;
  }
  fetchTicket(data).then((t) => {
    if (list.listed.has(t.id)) {
      list.updated++;
      updated(t, 'changed');
    } else {
      if (open) detail.refresh(t);
      if (matches(t, list.filter)) list.fresh.set(t.id, t);
      else list.fresh.delete(t.id);
    }
    showTotal();
  }, () => { /* gone or not readable: nothing to show */ });
}

// ---- export --------------------------------------------------------------

async function exportTickets() {
  const res = await api('GET', '/admin/tickets/export.xlsx', { query: readFilter(), raw: true });
  await download(res, `工单清单_${todayCST()}.xlsx`);
}

// ---- wiring --------------------------------------------------------------

// labelled fills the filter's menus with the server's words.
export function labelled() {
  const statusSel = $('f-status');
  const keep = statusSel.value;
  statusSel.replaceChildren(el('option', { value: '', text: '全部' }),
    el('option', { value: ACTIVE, text: '在办（' + ACTIVE.split(',').map((s) => label('status', s)).join('、') + '）' }),
    ...codes('status').map((k) => el('option', { value: k, text: label('status', k) })));
  statusSel.value = keep;
  const sourceSel = $('f-source');
  const keepSource = sourceSel.value;
  sourceSel.replaceChildren(el('option', { value: '', text: '全部' }),
    ...codes('source').map((k) => el('option', { value: k, text: label('source', k) })));
  sourceSel.value = keepSource;
  const f = $('ticket-filter').elements;
  for (const k of ['overdue', 'late', 'held']) f[k].parentElement.lastChild.textContent = ' ' + label('flag', k);
}

export function wire() {
  onSubmit($('ticket-filter'), async () => {
    await searchTickets();
    setAddress(detail.currentRef());
  });
  $('ticket-filter').addEventListener('reset', () => setTimeout(() => {
    searchTickets().then(() => setAddress(detail.currentRef())).catch((e) => showError(null, e));
  }));
  onClick($('ticket-more'), loadTickets);
  onClick($('ticket-export'), exportTickets);
  $('ticket-news').addEventListener('click', showFresh);
  const rows = $('ticket-rows');
  rows.addEventListener('click', (ev) => {
    if (ev.target.closest('td.pick')) return;
    const tr = ev.target.closest('tr[data-id]');
    if (tr) openRow(tr);
  });
  rows.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && ev.target === tr && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); openRow(tr); }
  });
  detail.wire({ updated, setAddress, hashOf });
  hotline.wire({
    opened: (t) => {
      searchTickets().catch((e) => showError(null, e));
      setAddress(ref(t));
      detail.open(ref(t), t.id);
    },
  });
  batch.wire({ list, updated, rowOf });
  onLive(live);
}

function openRow(tr) {
  const t = list.tickets.get(tr.dataset.id);
  tr.classList.remove('fresh', 'changed');
  const r = ref(t) || tr.dataset.id;
  setAddress(r);
  detail.open(r, tr.dataset.id);
}

// show is the tab's route: #/tickets[/<case number or id>[/print]][?filter].
export async function show(args, query, first) {
  const wanted = {};
  for (const k of FILTERS) wanted[k] = query.get(k) || '';
  const same = FILTERS.every((k) => (list.filter[k] || '') === wanted[k]);
  const loads = [];
  if (first || !same || list.stale) {
    list.stale = false;
    writeFilter(wanted);
    loads.push(searchTickets());
  }
  const [r, view] = args;
  if (r) loads.push(detail.open(r, '', view === 'print'));
  else if (detail.current()) detail.close(true);
  await Promise.all(loads);
}
