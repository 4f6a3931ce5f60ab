// 密钥: the Open311 api keys other platforms (a district's 12345 system,
// researchers) use to file tickets (admins only): issue one — its secret
// is shown once —, list them, revoke one. Issuing and revoking are
// recorded in the access trail (key.issue, key.revoke).
import { $, el, td, str, field, flash, onSubmit, onClick, confirmClick } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';

async function load() {
  const page = await api('GET', '/admin/open311/keys');
  const items = page.items || [];
  $('key-rows').replaceChildren(...items.map(row));
  $('key-empty').hidden = items.length > 0;
  $('key-total').textContent = items.length ? `共 ${items.length} 个，在用 ${items.filter((k) => k.active).length} 个` : '';
}

function row(k) {
  const ops = el('td', { class: 'ops' });
  if (k.active) {
    const off = el('button', { type: 'button', class: 'link danger-link', 'data-action': 'revoke', text: '吊销' });
    confirmClick(off, '确认吊销？对方将无法再提交', async () => {
      await api('DELETE', '/admin/open311/keys/' + enc(k.id));
      flash(`已吊销“${k.name}”的密钥。`);
      await load();
    });
    ops.append(off);
  }
  return el('tr', { 'data-id': k.id, class: k.active ? '' : 'inactive' },
    td(k.name), td(k.active ? '在用' : `已吊销（${fmtTime(k.revoked_at)}）`), td(fmtTime(k.created_at)), ops);
}

export function wire() {
  onSubmit($('key-form'), async (fd, form) => {
    const name = str(fd.get('name'));
    const k = await api('POST', '/admin/open311/keys', { json: { name } });
    const dl = $('key-issued-fields');
    dl.replaceChildren();
    field(dl, '名称', k.name || name);
    field(dl, '密钥', el('code', { class: 'invite-code', text: k.api_key }));
    $('key-issued').hidden = false;
    form.reset();
    await load();
  });
  $('key-issued-close').addEventListener('click', () => {
    $('key-issued-fields').replaceChildren();
    $('key-issued').hidden = true;
  });
  onClick($('key-refresh'), load);
}

export function show() { return load(); }
