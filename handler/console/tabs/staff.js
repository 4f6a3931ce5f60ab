// 人员 → 工作人员: the staff's own accounts (admins only): list, create
// with roles and an initial password, change name and roles, disable and
// enable, reset a password. The server checks everything (roles, the
// password's strength, the last admin) and its message is what the form
// shows.
import { $, el, td, str, flash, onSubmit, onClick, confirmClick } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';
import { label } from '../lib/labels.js';
import { STAFF_ROLES, myID } from '../lib/roles.js';

const rows = new Map(); // id → account

function roleNames(roles) {
  return (roles || []).filter((r) => STAFF_ROLES.includes(r)).map((r) => label('role', r)).join('、') || '（无角色）';
}

// load lists every staff account (a bureau has tens of them: one page).
export async function load() {
  const page = await api('GET', '/admin/staff');
  rows.clear();
  const items = page.items || [];
  for (const a of items) rows.set(a.id, a);
  $('staff-rows').replaceChildren(...items.map(row));
  const active = items.filter((a) => a.active).length;
  $('staff-total').textContent = `共 ${items.length} 个，在用 ${active} 个`;
}

function row(a) {
  const ops = el('td', { class: 'ops' });
  const edit = el('button', { type: 'button', class: 'link', 'data-action': 'edit', text: '编辑' });
  edit.addEventListener('click', () => openForm(a));
  const reset = el('button', { type: 'button', class: 'link', 'data-action': 'reset', text: '重置密码' });
  reset.addEventListener('click', () => openReset(a));
  ops.append(edit, ' ', reset, ' ');
  const me = a.id === myID();
  // One's own account is not disabled from here (nor one's own password
  // reset: 修改密码 asks for the old one).
  if (me) reset.remove();
  if (me) ops.append(el('span', { class: 'tag', text: '本人' }));
  else if (a.active) {
    const off = el('button', { type: 'button', class: 'link danger-link', 'data-action': 'disable', text: '停用' });
    confirmClick(off, '确认停用？', () => setActive(a, false));
    ops.append(off);
  } else {
    const on = el('button', { type: 'button', class: 'link', 'data-action': 'enable', text: '重新启用' });
    onClick(on, () => setActive(a, true));
    ops.append(on);
  }
  return el('tr', { 'data-id': a.id, 'data-username': a.username, class: a.active ? '' : 'inactive' },
    td(el('code', { text: a.username })), td(a.name || '—'), td(roleNames(a.roles)),
    td(a.active ? '在用' : '已停用'), td(a.created_at ? fmtTime(a.created_at) : '—'), ops);
}

function replace(a) {
  rows.set(a.id, a);
  for (const tr of $('staff-rows').children) {
    if (tr.dataset.id === a.id) { tr.replaceWith(row(a)); break; }
  }
  const items = [...rows.values()];
  $('staff-total').textContent = `共 ${items.length} 个，在用 ${items.filter((x) => x.active).length} 个`;
}

async function setActive(a, active) {
  const res = await api('PATCH', '/admin/staff/' + enc(a.id), { json: { active } });
  flash(active ? `已重新启用 ${a.name || a.username}。` : `已停用 ${a.name || a.username}，其登录已全部失效。`);
  replace(res && res.id ? res : Object.assign({}, a, { active }));
}

// openForm opens the account form: empty to create one, or an account's
// name and roles to change them.
export function openForm(a) {
  const form = $('staff-form');
  form.reset();
  $('staff-reset-form').hidden = true;
  const f = form.elements;
  f.id.value = a ? a.id : '';
  f.username.value = a ? a.username : '';
  f.username.readOnly = !!a;
  f.name.value = a ? a.name || '' : '';
  f.password.required = !a;
  for (const n of form.querySelectorAll('[data-new]')) n.hidden = !!a;
  for (const box of form.querySelectorAll('input[name=roles]')) box.checked = !!a && (a.roles || []).includes(box.value);
  $('staff-form-title').textContent = a ? `编辑工作人员：${a.name || a.username}` : '新增工作人员';
  form.hidden = false;
  form.scrollIntoView({ block: 'nearest' });
  (a ? f.name : f.username).focus();
}

function openReset(a) {
  const form = $('staff-reset-form');
  form.reset();
  $('staff-form').hidden = true;
  form.elements.id.value = a.id;
  $('staff-reset-title').textContent = `重置密码：${a.name || a.username}（${a.username}）`;
  form.hidden = false;
  form.scrollIntoView({ block: 'nearest' });
  form.elements.password.focus();
}

// labelled builds the role checkboxes with the server's words.
export function labelled() {
  $('staff-roles').replaceChildren(...STAFF_ROLES.map((r) => el('label', { class: 'check' },
    el('input', { type: 'checkbox', name: 'roles', value: r }), ' ', label('role', r))));
}

export function wire() {
  $('staff-form-close').addEventListener('click', () => { $('staff-form').hidden = true; });
  $('staff-reset-close').addEventListener('click', () => { $('staff-reset-form').hidden = true; });
  onSubmit($('staff-form'), async (fd, form) => {
    const id = str(fd.get('id'));
    const name = str(fd.get('name'));
    const roles = fd.getAll('roles').map(String);
    if (!roles.length) throw new Error('请至少选择一个角色：管理员、派遣员、领导或审计员');
    if (id) {
      const a = await api('PATCH', '/admin/staff/' + enc(id), { json: { name, roles } });
      flash(`已保存 ${name}。`);
      replace(a);
    } else {
      const username = str(fd.get('username'));
      await api('POST', '/admin/staff', { json: { username, name, roles, password: String(fd.get('password') || '') } });
      flash(`已创建工作人员账号 ${username}（${name}）。`);
      await load();
    }
    form.hidden = true;
  });
  onSubmit($('staff-reset-form'), async (fd, form) => {
    const id = str(fd.get('id'));
    const a = await api('POST', `/admin/staff/${enc(id)}/password`, { json: { password: String(fd.get('password') || '') } });
    const who = rows.get(id) || a;
    flash(`已重置 ${who.name || who.username} 的密码，其原有登录已全部失效。`);
    form.reset();
    form.hidden = true;
  });
}
