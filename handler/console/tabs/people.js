// 人员: the people directory — grid workers, party members, branches —
// with invitations and deactivation; and the staff's own accounts
// (工作人员, tabs/staff.js), chosen in the same menu.
import { $, el, td, str, field, yes, flash, onSubmit, onClick, confirmClick, showError } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';
import { state, gridName, gridOptions, communityOptions } from '../lib/state.js';
import { chips } from '../lib/suggest.js';
import * as staff from './staff.js';

const people = { kind: 'workers', query: {}, cursor: '', rows: new Map(), seq: 0 };
const pickers = {};


// The people directory's calls, spelled out per kind so that every path
// in this script can be checked against the server's routes.
const PEOPLE = {
  workers: {
    label: '网格员',
    list: (query) => api('GET', '/admin/workers', { query }),
    create: (json) => api('POST', '/admin/workers', { json }),
    patch: (id, json) => api('PATCH', '/admin/workers/' + enc(id), { json }),
    invite: (id) => api('POST', `/admin/workers/${enc(id)}/invite`),
  },
  members: {
    label: '在职党员',
    list: (query) => api('GET', '/admin/party-members', { query }),
    create: (json) => api('POST', '/admin/party-members', { json }),
    patch: (id, json) => api('PATCH', '/admin/party-members/' + enc(id), { json }),
    invite: (id) => api('POST', `/admin/party-members/${enc(id)}/invite`),
  },
  branches: {
    label: '党支部',
    list: () => api('GET', '/admin/branches'),
    create: (json) => api('POST', '/admin/branches', { json }),
    patch: (id, json) => api('PATCH', '/admin/branches/' + enc(id), { json }),
  },
};

function showInvite(kind, name, res) {
  const dl = $('invite-fields');
  dl.replaceChildren();
  field(dl, '身份', kind);
  field(dl, '姓名', name);
  field(dl, '邀请码', el('code', { class: 'invite-code', text: res.invite_code }));
  const exp = res.expires_at || res.invite_expires_at;
  field(dl, '有效期至', exp ? fmtTime(exp) : '');
  $('invite').hidden = false;
  $('invite').scrollIntoView({ block: 'nearest' });
}

async function loadBranches() {
  const page = await api('GET', '/admin/branches');
  state.branches = page.items || [];
  const sel = $('p-branch');
  const keep = sel.value;
  sel.replaceChildren(el('option', { value: '', text: '请选择党支部' }),
    ...state.branches.map((b) => el('option', { value: b.id, text: b.name })));
  sel.value = keep;
  return state.branches;
}

function branchName(id) {
  const b = state.branches.find((x) => x.id === id);
  return b ? b.name : '';
}

function readPeopleFilter() {
  const fd = new FormData($('people-filter'));
  const kind = str(fd.get('kind')) || 'workers';
  return { kind, query: kind === 'branches' ? {} : { q: str(fd.get('q')), grid: kind === 'workers' ? str(fd.get('grid')) : '', active: str(fd.get('active')) } };
}

function searchPeople() {
  const { kind, query } = readPeopleFilter();
  const p = people;
  // The open form belongs to the kind listed before.
  if (kind !== p.kind) $('person-form').hidden = true;
  Object.assign(p, { kind, query, cursor: '', rows: new Map() });
  const f = $('people-filter').elements;
  f.q.closest('label').hidden = kind === 'branches' || kind === 'staff';
  f.active.closest('label').hidden = kind === 'branches' || kind === 'staff';
  f.grid.closest('label').hidden = kind !== 'workers';
  $('person-new').textContent = kind === 'staff' ? '新增工作人员' : '新增';
  $('staff-box').hidden = kind !== 'staff';
  $('people-list').hidden = kind === 'staff';
  if (kind === 'staff') return staff.load();
  $('people-rows').replaceChildren();
  $('people-total').textContent = '';
  $('people-title').firstChild.textContent = PEOPLE[kind].label + ' ';
  const heads = {
    workers: ['姓名', '手机号', '负责网格', '绑定', '在岗', '在办任务', '状态', '操作'],
    members: ['姓名', '手机号', '党支部', '服务社区', '绑定', '在岗', '在办任务', '状态', '操作'],
    branches: ['支部名称', '党员人数', '操作'],
  }[kind];
  $('people-head').replaceChildren(el('tr', null, ...heads.map((h) => el('th', { text: h }))));
  return loadPeople();
}

async function loadPeople() {
  const p = people;
  const seq = ++p.seq;
  const page = await PEOPLE[p.kind].list(Object.assign({}, p.query, { limit: '50', cursor: p.cursor }));
  if (seq !== p.seq) return;
  for (const x of page.items || []) {
    if (p.rows.has(x.id)) continue;
    p.rows.set(x.id, x);
    $('people-rows').append(personRow(p.kind, x));
  }
  p.cursor = page.next_cursor || '';
  $('people-more').hidden = !p.cursor;
  $('people-empty').hidden = p.rows.size > 0;
  const n = $('people-rows').children.length;
  $('people-total').textContent = page.total !== undefined ? `共 ${page.total} 人，已显示 ${n} 人` : (p.kind === 'branches' ? `共 ${n} 个` : `已显示 ${n} 人`);
}


function personRow(kind, x) {
  const ops = el('td', { class: 'ops' });
  const edit = el('button', { type: 'button', class: 'link', text: kind === 'branches' ? '改名' : '编辑' });
  edit.addEventListener('click', () => openPersonForm(kind, x));
  ops.append(edit);
  if (kind === 'branches') {
    return el('tr', { 'data-id': x.id }, td(x.name), td(String(x.members === undefined ? '—' : x.members)), ops);
  }
  const who = PEOPLE[kind].label;
  if (x.active !== false) {
    const off = el('button', { type: 'button', class: 'link danger-link', 'data-action': 'deactivate', text: '停用' });
    confirmClick(off, '确认停用？', async () => {
      const res = await PEOPLE[kind].patch(x.id, { active: false });
      flash(`已停用${who}${x.name}，其在办任务已重新派遣。`);
      replacePerson(kind, Object.assign({}, x, res && res.id ? res : { active: false, on_duty: false }));
    });
    const inv = el('button', { type: 'button', class: 'link', 'data-action': 'invite', text: '重新邀请' });
    confirmClick(inv, '确认生成新邀请码？', async () => {
      const res = await PEOPLE[kind].invite(x.id);
      showInvite(who, x.name, res);
    });
    ops.append(' ', inv, ' ', off);
  } else {
    const on = el('button', { type: 'button', class: 'link', 'data-action': 'activate', text: '重新启用' });
    onClick(on, async () => {
      const res = await PEOPLE[kind].patch(x.id, { active: true });
      flash(`已重新启用${who}${x.name}。`);
      replacePerson(kind, Object.assign({}, x, res && res.id ? res : { active: true }));
    });
    ops.append(' ', on);
  }
  const cells = kind === 'workers'
    ? [td(x.name), td(x.phone || '—'), td((x.grid_codes || []).map(gridName).join('、') || '—')]
    : [td(x.name), td(x.phone || '—'), td(x.branch_name || branchName(x.branch_id) || '—'), td((x.communities || []).join('、') || '—')];
  return el('tr', { 'data-id': x.id, class: x.active === false ? 'inactive' : '' }, ...cells,
    td(yes(x.bound, '已绑定', '未绑定')), td(yes(x.on_duty, '在岗', '不在岗')),
    td(String(x.open_tasks === undefined ? '—' : x.open_tasks)), td(x.active === false ? '已停用' : '在用'), ops);
}

function replacePerson(kind, x) {
  people.rows.set(x.id, x);
  for (const tr of $('people-rows').children) {
    if (tr.dataset.id === x.id) { tr.replaceWith(personRow(kind, x)); return; }
  }
}

function openPersonForm(kind, x) {
  const form = $('person-form');
  form.reset();
  const f = form.elements;
  f.kind.value = kind;
  f.id.value = x ? x.id : '';
  $('person-form-title').textContent = `${x ? (kind === 'branches' ? '改名' : '编辑') : '新增'}${PEOPLE[kind].label}`;
  for (const lab of form.querySelectorAll('[data-for]')) lab.hidden = !lab.dataset.for.split(' ').includes(kind);
  f.phone.required = !x && kind !== 'branches';
  f.branch_id.required = kind === 'members';
  pickers.grids.set([]);
  pickers.communities.set([]);
  if (x) {
    f.name.value = x.name || '';
    f.phone.value = x.phone || '';
    pickers.grids.set(x.grid_codes);
    f.branch_id.value = x.branch_id || '';
    pickers.communities.set(x.communities);
  }
  form.hidden = false;
  form.scrollIntoView({ block: 'nearest' });
  f.name.focus();
}

// chosen are the values of a chooser; text typed but not chosen from the
// list is an error, said with the name typed.
function chosen(picker, what, required) {
  const typed = picker.text();
  if (typed) throw new Error(`没有名称为“${typed}”的${what}：请从列表中选择`);
  const v = picker.get();
  if (required && !v.length) throw new Error(`请至少选择一个${what}`);
  return v;
}

async function savePerson(fd, form) {
  const kind = str(fd.get('kind'));
  const id = str(fd.get('id'));
  const name = str(fd.get('name'));
  let body = { name };
  if (kind === 'workers') body = { name, phone: str(fd.get('phone')), grid_codes: chosen(pickers.grids, '网格', !id) };
  if (kind === 'members') {
    body = { name, phone: str(fd.get('phone')), branch_id: str(fd.get('branch_id')), communities: chosen(pickers.communities, '社区', !id) };
  }
  if (id) {
    // Only what was filled in is changed.
    for (const k of Object.keys(body)) if (body[k] === '' || (Array.isArray(body[k]) && !body[k].length)) delete body[k];
    const res = await PEOPLE[kind].patch(id, body);
    flash(`已保存${PEOPLE[kind].label}${name}。`);
    if (kind === 'branches') await loadBranches();
    if (res && res.id) replacePerson(kind, Object.assign({}, people.rows.get(id), res));
    else await searchPeople();
  } else {
    const res = await PEOPLE[kind].create(body);
    if (kind === 'branches') {
      await loadBranches();
      flash(`党支部“${name}”已创建。`);
    } else {
      showInvite(PEOPLE[kind].label, name, res);
    }
    await searchPeople();
  }
  form.hidden = true;
}

export function wire() {
  pickers.grids = chips($('p-grids'), gridOptions);
  pickers.communities = chips($('p-communities'), communityOptions);
  onSubmit($('people-filter'), () => searchPeople());
  $('people-filter').elements.kind.addEventListener('change', () => searchPeople().catch((e) => showError(null, e)));
  onClick($('people-more'), loadPeople);
  $('person-new').addEventListener('click', () => (people.kind === 'staff' ? staff.openForm(null) : openPersonForm(people.kind)));
  staff.wire();
  $('person-form-close').addEventListener('click', () => { $('person-form').hidden = true; });
  onSubmit($('person-form'), savePerson);
  $('invite-close').addEventListener('click', () => {
    $('invite-fields').replaceChildren();
    $('invite').hidden = true;
  });
}

// labelled fills the staff form's roles with the server's words.
export function labelled() { staff.labelled(); }

// show lists people; #/people/staff opens 工作人员.
export function show(args, query, first) {
  if (args[0] === 'staff' && people.kind !== 'staff') {
    $('people-filter').elements.kind.value = 'staff';
    return Promise.all([first && loadBranches(), searchPeople()]);
  }
  return first && Promise.all([loadBranches(), searchPeople()]);
}
