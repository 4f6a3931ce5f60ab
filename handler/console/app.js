// 市民城管通 staff console. Plain JavaScript modules, no build step, no
// third-party code, nothing fetched from outside this server. It talks only
// to the JSON API under /api/v1 (lib/api.js). Everything the API returns is
// put on the page as text nodes or attribute values, never as HTML
// (lib/dom.js); the charts and the map are SVG built element by element.
//
// This module signs in and out and shows one tab at a time, from the
// address: #/<tab>[/<arg>…][?<query>] (#/tickets/20261207-0042,
// #/tickets?status=pending&overdue=true). Each tab is a module of tabs/
// with wire() (its handlers, once) and show(args, query, first) (what it
// loads when shown; first is its first showing), and labelled() when it
// has menus of the server's words to fill once they are read.
import { $, str, showError, onSubmit } from './lib/dom.js';
import { api, session, saveSession, clearSession, onExpired, onSessionChange } from './lib/api.js';
import { loadLabels, label } from './lib/labels.js';
import * as live from './lib/live.js';
import { state } from './lib/state.js';
import { setRoles, can, roles, STAFF_ROLES } from './lib/roles.js';
import * as overview from './tabs/overview.js';
import * as map from './tabs/map.js';
import * as tickets from './tabs/tickets.js';
import * as people from './tabs/people.js';
import * as grids from './tabs/grids.js';
import * as categories from './tabs/categories.js';
import * as activities from './tabs/activities.js';
import * as stats from './tabs/stats.js';
import * as deadLetters from './tabs/dead-letters.js';
import * as audit from './tabs/audit.js';
import * as keys from './tabs/keys.js';
import * as account from './tabs/account.js';
import { hideView } from './tabs/print.js';

const TABS = {
  overview, map, tickets, people, grids, categories, activities, stats, keys, 'dead-letters': deadLetters, audit,
};
// What a tab needs (lib/roles.js); its link in the menu carries the same
// data-can, so a tab the clerk may not use is neither offered nor shown.
const NEEDS = {
  overview: 'read', map: 'read', tickets: 'read', people: 'admin', grids: 'admin', categories: 'read', activities: 'read',
  stats: 'read', keys: 'admin', 'dead-letters': 'admin', audit: 'audit',
};
const shown = new Set(); // tabs loaded once
let expiryTimer = 0;
let entered = false;

function showLogin(message) {
  entered = false;
  live.stop();
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

async function logout() {
  // The server clears its cookie; every tab of the console sees the
  // session go (the storage event) and shows the sign-in.
  await api('POST', '/auth/logout').catch(() => {});
  clearSession();
  // A fresh page leaves nothing of the last session in the DOM.
  location.replace(location.pathname);
}

async function enter() {
  const s = session();
  if (!s) return showLogin();
  entered = true;
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = s.name || s.username ? `工作人员：${s.name || s.username}` : '工作人员';
  armExpiry(s);
  // The roles as the login gave them at once, then as the server holds
  // them now (an admin may have changed them since).
  setRoles(s.roles, s.id);
  try {
    const me = await api('GET', '/me');
    setRoles(me.roles, me.id);
    if (String(me.roles) !== String(s.roles) || me.id !== s.id) saveSession(Object.assign({}, s, { roles: me.roles, id: me.id }));
  } catch (e) {
    if (!session()) return undefined;
    showError(null, e);
  }
  await Promise.all([
    loadLabels().then(() => {
      for (const tab of Object.values(TABS)) if (tab.labelled) tab.labelled();
      // Who is signed in, and as what (管理员、派遣员 …).
      const held = roles().filter((r) => STAFF_ROLES.includes(r)).map((r) => label('role', r)).join('、');
      if (held) $('who-name').textContent += `（${held}）`;
    }),
    categories.loadCategories(), can('read') && grids.loadGrids(),
  ]).catch((e) => showError(null, e));
  if (!session()) return undefined;
  if (can('read')) live.start();
  return route();
}

// armExpiry signs out when the session ends (a new password renews it).
function armExpiry(s) {
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(expire, Math.min(Date.parse(s.expires_at) - Date.now(), 0x7fffffff));
}

// home is the first tab the clerk may use (an auditor's is 访问记录).
function home() {
  return Object.keys(TABS).find((t) => can(NEEDS[t])) || '';
}

// where reads the address: the tab, its arguments and its query.
function where() {
  let h = location.hash.replace(/^#\/?/, '');
  const qi = h.indexOf('?');
  const query = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
  if (qi >= 0) h = h.slice(0, qi);
  const [name, ...args] = h.split('/').map((p) => { try { return decodeURIComponent(p); } catch (_) { return p; } });
  return { name, args: args.filter(Boolean), query };
}

function route() {
  if (!session() || !entered) return;
  const { name, args, query } = where();
  const tab = Object.hasOwn(TABS, name) && can(NEEDS[name]) ? name : home();
  if (!tab) {
    $('no-role').hidden = false;
    return;
  }
  state.tab = tab;
  document.body.dataset.tab = tab;
  if (tab !== 'tickets') hideView();
  for (const t of Object.keys(TABS)) $('tab-' + t).hidden = t !== tab;
  document.querySelectorAll('.tabs a').forEach((a) => {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  const first = !shown.has(tab);
  shown.add(tab);
  Promise.resolve(TABS[tab].show(args, query, first)).catch((e) => showError(null, e));
}

function wire() {
  onSubmit($('login-form'), async (fd, form) => {
    const username = str(fd.get('username'));
    const s = await api('POST', '/auth/staff', { json: { username, password: fd.get('password') || '' }, login: true });
    if (!s.user || !(s.user.roles || []).includes('staff')) throw new Error('该账号不是工作人员账号。');
    // The token itself stays in the server's HttpOnly cookie.
    saveSession({ expires_at: s.expires_at, username: s.user.username || username, name: s.user.name || '', roles: s.user.roles, id: s.user.id });
    form.reset();
    await enter();
  });
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  onExpired(expire);
  onSessionChange(() => {
    if (!session()) showLogin('已在其他标签页退出登录。');
    else if (!entered) enter().catch((e) => showError(null, e));
  });
  for (const tab of Object.values(TABS)) tab.wire();
  account.wire({ renewed: armExpiry });
}

wire();
if (session()) enter().catch((e) => showError(null, e));
else showLogin();
