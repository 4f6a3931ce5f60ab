// 修改密码: the signed-in clerk's own password (PUT /api/v1/me/password).
// The server answers a new session — every other session of the account
// has ended — and renews the console's cookie with it.
import { $, flash, onSubmit } from '../lib/dom.js';
import { api, session, saveSession } from '../lib/api.js';

function openForm() {
  const form = $('password-form');
  form.reset();
  form.querySelector('[data-error]').textContent = '';
  form.hidden = false;
  form.scrollIntoView({ block: 'nearest' });
  form.elements.old.focus();
}

// wire takes renewed(session), called with the session a new password
// begins.
export function wire({ renewed }) {
  $('password-open').addEventListener('click', openForm);
  $('password-close').addEventListener('click', () => { $('password-form').hidden = true; });
  onSubmit($('password-form'), async (fd, form) => {
    const old = String(fd.get('old') || '');
    const next = String(fd.get('new') || '');
    if (next !== String(fd.get('again') || '')) throw new Error('两次输入的新密码不一致，请重新输入');
    const s = await api('PUT', '/me/password', { json: { old, new: next } });
    const cur = session();
    if (cur && s && s.expires_at) {
      const next = Object.assign({}, cur, { expires_at: s.expires_at });
      saveSession(next);
      renewed(next);
    }
    form.reset();
    form.hidden = true;
    flash('密码已修改；该账号在其他设备上的登录已失效。');
  });
}
