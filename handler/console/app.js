// 市民城管通 staff console. Plain JavaScript modules, no build step, no
// third-party code, nothing fetched from outside this server. It talks only
// to the JSON API under /api/v1 (lib/api.js). Everything the API returns is
// put on the page as text nodes or attribute values, never as HTML
// (lib/dom.js); the charts and the map are SVG built element by element.
//
// This module signs in and out and shows one tab at a time; each tab is a
// module of tabs/ with wire() (its handlers, once) and show(arg, first)
// (what it loads when shown; first is its first showing).
import { $, str, showError, onSubmit } from './lib/dom.js';
import { api, session, saveSession, clearSession, onExpired } from './lib/api.js';
import { state } from './lib/state.js';
import * as overview from './tabs/overview.js';
import * as map from './tabs/map.js';
import * as tickets from './tabs/tickets.js';
import * as people from './tabs/people.js';
import * as grids from './tabs/grids.js';
import * as categories from './tabs/categories.js';
import * as activities from './tabs/activities.js';
import * as stats from './tabs/stats.js';
import * as deadLetters from './tabs/dead-letters.js';

const TABS = {
  overview, map, tickets, people, grids, categories, activities, stats, 'dead-letters': deadLetters,
};
const shown = new Set(); // tabs loaded once
let expiryTimer = 0;

function showLogin(message) {
  $('app').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  if (message) $('login-form').querySelector('[data-error]').textContent = message;
  $('login-form').elements.username.focus();
}

function expire() {
  clearSession();
  clearTimeout(expiryTimer);
  showLogin('登录已失效，请重新登录。');
}

function logout() {
  clearSession();
  // A fresh page leaves nothing of the last session in the DOM.
  location.replace(location.pathname);
}

async function enter() {
  const s = session();
  if (!s) return showLogin();
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = s.username ? `工作人员：${s.username}` : '工作人员';
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(expire, Math.min(Date.parse(s.expires_at) - Date.now(), 0x7fffffff));
  await Promise.all([categories.loadCategories(), grids.loadGrids()]).catch((e) => showError(null, e));
  if (!session()) return undefined;
  return route();
}

function route() {
  if (!session()) return;
  const [name, arg] = location.hash.replace(/^#/, '').split('/');
  const tab = Object.hasOwn(TABS, name) ? name : 'overview';
  state.tab = tab;
  for (const t of Object.keys(TABS)) $('tab-' + t).hidden = t !== tab;
  document.querySelectorAll('.tabs a').forEach((a) => {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  const first = !shown.has(tab);
  shown.add(tab);
  Promise.resolve(TABS[tab].show(arg, first)).catch((e) => showError(null, e));
}

function wire() {
  onSubmit($('login-form'), async (fd, form) => {
    const username = str(fd.get('username'));
    const s = await api('POST', '/auth/staff', { json: { username, password: fd.get('password') || '' }, login: true });
    if (!s.user || !(s.user.roles || []).includes('staff')) throw new Error('该账号不是工作人员账号。');
    saveSession({ token: s.token, expires_at: s.expires_at, username: s.user.username || username });
    form.reset();
    await enter();
  });
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  onExpired(expire);
  for (const tab of Object.values(TABS)) tab.wire();
}

wire();
if (session()) enter().catch((e) => showError(null, e));
else showLogin();
