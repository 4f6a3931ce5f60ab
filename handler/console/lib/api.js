// The JSON API under /api/v1, called with the staff's session; downloads
// of exports; photo URLs made safe to show.
import { el, flash } from './dom.js';

const SESSION_KEY = 'cgt.staff.session';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The session itself is the server's HttpOnly, SameSite=Strict cookie: no
// script on the page can read the token. The page keeps only who signed in
// and until when, in localStorage, so that every tab of the console (a
// ticket's link opened in a new tab) knows it is signed in.

// session is the signed-in clerk ({username, expires_at}) or null.
export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    if (s && Date.parse(s.expires_at) > Date.now()) return s;
  } catch (_) { /* a damaged entry is no session */ }
  localStorage.removeItem(SESSION_KEY);
  return null;
}

export function saveSession(s) { localStorage.setItem(SESSION_KEY, JSON.stringify(s)); }

export function clearSession() { localStorage.removeItem(SESSION_KEY); }

// onSessionChange calls fn when another tab signs in or out.
export function onSessionChange(fn) {
  window.addEventListener('storage', (ev) => { if (ev.key === SESSION_KEY || ev.key === null) fn(); });
}

let expired = () => {};

// onExpired sets what a 401 does (the sign-in page).
export function onExpired(fn) { expired = fn; }

// api calls /api/v1 + path. It throws ApiError with the message of the
// API's error envelope; a 401 ends the session (except for the login).
export async function api(method, path, opts) {
  opts = opts || {};
  // The cookie goes with every call; the header is what the server asks of
  // a write by cookie, which another site's page cannot send.
  const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = opts.type;
    body = opts.body;
  }
  let url = '/api/v1' + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v) q.set(k, v);
    if (q.toString()) url += '?' + q.toString();
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
  } catch (_) {
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络后重试');
  }
  if (!res.ok) {
    let code = 'internal';
    let message = `请求失败（HTTP ${res.status}）`;
    try {
      const j = await res.json();
      if (j && j.error) {
        code = j.error.code || code;
        message = j.error.message || message;
      }
    } catch (_) { /* not the envelope: keep the status */ }
    if (res.status === 429 && res.headers.get('Retry-After')) {
      message += `（请 ${res.headers.get('Retry-After')} 秒后再试）`;
    }
    if (res.status === 401 && !opts.login) expired();
    throw new ApiError(res.status, code, message);
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export const enc = encodeURIComponent;

// download saves a response (an Excel export) under the server's name.
export async function download(res, fallback) {
  const blob = await res.blob();
  const name = filenameOf(res.headers.get('Content-Disposition')) || fallback;
  const href = URL.createObjectURL(blob);
  const a = el('a', { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 30000);
  flash(`已下载 ${name}`);
}

// filenameOf reads the file name of a Content-Disposition header,
// preferring the RFC 5987 filename* form.
function filenameOf(cd) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd || '');
  if (star) {
    try { return decodeURIComponent(star[1].trim()); } catch (_) { /* fall through */ }
  }
  const plain = /filename="([^"]+)"/i.exec(cd || '');
  return plain ? plain[1] : '';
}

// photoURL makes a signed photo URL safe to use. Photos are served by this
// same server under /media/photos/ (the signature does not cover the
// host), so a URL built on another public base URL is fetched from here.
export function photoURL(u) {
  let p;
  try { p = new URL(u, location.href); } catch (_) { return ''; }
  if (p.protocol !== 'http:' && p.protocol !== 'https:') return '';
  if (p.origin !== location.origin && p.pathname.startsWith('/media/photos/')) return p.pathname + p.search;
  return p.href;
}
