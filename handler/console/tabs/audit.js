// 访问记录: the access trail, for auditors (GET /admin/audit, newest first,
// by pages; its Excel export, itself recorded). Filters: who (chosen by
// clicking a name in the list: the API filters by account id), what, on
// what, from and to.
import { $, el, td, str, onSubmit, onClick, showError } from '../lib/dom.js';
import { api, download } from '../lib/api.js';
import { fmtTime, todayCST } from '../lib/format.js';
import { label, codes } from '../lib/labels.js';

const view = { filter: {}, cursor: '', seq: 0, n: 0 };

function readFilter() {
  const fd = new FormData($('audit-filter'));
  const q = {};
  for (const k of ['actor', 'action', 'target', 'from', 'to']) q[k] = str(fd.get(k));
  return q;
}

async function search() {
  view.filter = readFilter();
  view.cursor = '';
  view.n = 0;
  $('audit-rows').replaceChildren();
  $('audit-total').textContent = '';
  await more();
}

async function more() {
  const seq = ++view.seq;
  const page = await api('GET', '/admin/audit', { query: Object.assign({}, view.filter, { limit: '50', cursor: view.cursor }) });
  if (seq !== view.seq) return;
  const items = page.items || [];
  $('audit-rows').append(...items.map(row));
  view.n += items.length;
  view.cursor = page.next_cursor || '';
  $('audit-more').hidden = !view.cursor;
  $('audit-empty').hidden = view.n > 0;
  $('audit-total').textContent = view.n ? `已显示 ${view.n} 条${view.cursor ? '，还有更早的' : ''}` : '';
}

function row(e) {
  const actor = e.actor || {};
  // A name filters the list by that account; an entry without one (a
  // resident's 注销, a login under an unknown name) names nobody.
  const who = actor.id
    ? el('button', { type: 'button', class: 'link', 'data-actor': actor.id, title: '只看此人的记录', text: actor.name || actor.id,
      onclick: () => pickActor(actor) })
    : el('span', { class: 'muted', text: actor.name || '—' });
  return el('tr', { 'data-action': e.action },
    el('td', { class: 'nowrap' }, el('time', { datetime: e.at, text: fmtTime(e.at) })),
    td(who),
    el('td', { class: 'nowrap', text: e.action_name || label('audit_action', e.action) }),
    td(e.target ? el('code', { text: e.target }) : '—'),
    el('td', { class: 'audit-detail', text: e.detail || '' }),
    el('td', { class: 'nowrap' }, e.ip ? el('code', { text: e.ip }) : '—'));
}

function pickActor(actor) {
  const f = $('audit-filter').elements;
  f.actor.value = actor.id;
  f.actor_name.value = actor.name || actor.id;
  $('audit-actor-clear').hidden = false;
  return search();
}

async function exportTrail() {
  const res = await api('GET', '/admin/audit/export.xlsx', { query: readFilter(), raw: true });
  await download(res, `访问记录_${todayCST()}.xlsx`);
}

// labelled fills the action menu with the server's words.
export function labelled() {
  const sel = $('au-action');
  const keep = sel.value;
  sel.replaceChildren(el('option', { value: '', text: '全部' }),
    ...codes('audit_action').map((a) => el('option', { value: a, text: label('audit_action', a) })));
  sel.value = keep;
}

export function wire() {
  const form = $('audit-filter');
  onSubmit(form, search);
  const clearActor = () => {
    // A hidden input's value is its attribute: reset does not empty it.
    form.elements.actor.value = '';
    form.elements.actor_name.value = '';
    $('audit-actor-clear').hidden = true;
  };
  form.addEventListener('reset', () => {
    clearActor();
    setTimeout(() => search().catch((e) => showError(null, e)), 0); // after the form has emptied
  });
  $('audit-actor-clear').addEventListener('click', () => {
    clearActor();
    search().catch((e) => showError(null, e));
  });
  onClick($('audit-more'), more);
  onClick($('audit-export'), exportTrail);
}

export function show(args, query, first) { return first && search(); }
