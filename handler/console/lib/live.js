// The live feed: GET /api/v1/admin/events as Server-Sent Events. The
// browser's EventSource sends the console's cookie and, when the stream
// drops, reconnects by itself with Last-Event-ID, so nothing in between is
// lost; when the server cannot resume it says `reset`, and the tabs reload.
// Every tab that shows tickets subscribes with on(); the header shows
// whether the feed is up.
import { $ } from './dom.js';
import { api, enc } from './api.js';

const TYPES = ['ticket.created', 'ticket.changed', 'ticket.overdue'];
const subscribers = new Set();
let source = null;
let lastID = '';
let retryTimer = 0;
let wanted = false;

// on calls fn(type, data) for every event (type 'reset' with no data when
// the lists must be read again); it returns a function that unsubscribes.
export function on(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

function emit(type, data) {
  for (const fn of subscribers) {
    try { fn(type, data); } catch (e) { console.error(e); }
  }
}

function indicate(up) {
  const b = $('live-state');
  if (!b) return;
  b.hidden = false;
  b.className = up ? 'live up' : 'live down';
  b.textContent = up ? '● 实时' : '○ 正在重新连接…';
  b.title = up ? '工单与地图随新上报和处置实时更新' : '与服务器的实时连接已断开，正在重新连接';
}

// start opens the feed (once); stop closes it, at sign-out.
export function start() {
  wanted = true;
  if (source) return;
  connect();
}

export function stop() {
  wanted = false;
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  const b = $('live-state');
  if (b) b.hidden = true;
}

function connect() {
  clearTimeout(retryTimer);
  // A new EventSource resumes after the last event seen (the query
  // parameter: it cannot set the header on its first request).
  const url = '/api/v1/admin/events' + (lastID ? '?last_event_id=' + enc(lastID) : '');
  const es = new EventSource(url);
  source = es;
  es.onopen = () => indicate(true);
  es.onerror = () => {
    indicate(false);
    // EventSource retries a dropped stream itself; a refused one (401,
    // 503) it gives up: try again in a while, and let a 401 sign out.
    if (es.readyState === EventSource.CLOSED && source === es) {
      source = null;
      retryTimer = setTimeout(() => {
        if (!wanted) return;
        api('GET', '/me').then(() => wanted && connect(), () => { retryTimer = setTimeout(() => wanted && connect(), 10000); });
      }, 3000);
    }
  };
  for (const type of TYPES) {
    es.addEventListener(type, (ev) => {
      if (ev.lastEventId) lastID = ev.lastEventId;
      let data;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      if (data && data.id) emit(type, data);
    });
  }
  es.addEventListener('reset', () => {
    // Start afresh (without the id the server no longer keeps), then read
    // the lists again.
    lastID = '';
    es.close();
    if (source === es) connect();
    emit('reset', null);
  });
}

// fetchTicket reads the staff's view of the ticket an event names, once
// for every subscriber of the same state (two tabs of the page, the list
// and the map, share one call).
const recent = new Map();
export function fetchTicket(data) {
  const key = [data.id, data.status, data.held, data.overdue, data.assignee_id].join('|');
  let p = recent.get(key);
  if (!p) {
    p = api('GET', '/admin/tickets/' + enc(data.id));
    recent.set(key, p);
    setTimeout(() => recent.delete(key), 5000);
  }
  return p;
}
