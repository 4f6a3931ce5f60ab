// Times, dates and numbers as the console shows them, in China Standard
// Time whatever the browser's zone.
import { str } from './dom.js';

const timeFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hour12: false,
});
export const clockFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});
const shortFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});

// fmtShort is a time without the year, for lists.
export function fmtShort(s) {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d) ? String(s) : shortFormat.format(d);
}

export function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d) ? String(s) : timeFormat.format(d);
}

// todayCST is today's date in China Standard Time, as YYYY-MM-DD.
export function todayCST() {
  const parts = {};
  for (const p of new Intl.DateTimeFormat('en-US', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date())) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}

// addDays moves a YYYY-MM-DD date by n calendar days.
export function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// cstTime turns a datetime-local value, read as Beijing time, into RFC 3339.
export function cstTime(v) {
  v = str(v);
  if (!v) return '';
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(v)) v += ':00';
  return v + '+08:00';
}

// timeLeft says how long until a deadline, or how long past it.
export function timeLeft(due) {
  const ms = Date.parse(due) - Date.now();
  if (isNaN(ms)) return '';
  const h = Math.abs(ms) / 3600000;
  const span = h >= 48 ? `${Math.floor(h / 24)} 天` : h >= 1 ? `${Math.floor(h)} 小时` : `${Math.max(1, Math.floor(h * 60))} 分钟`;
  return ms < 0 ? `已超期 ${span}` : `剩 ${span}`;
}

export function fmtNumber(v, kind) {
  if (v === null || v === undefined || (typeof v === 'number' && isNaN(v))) return '—';
  // Rounded in thousandths, halves up, before it is written with one
  // decimal: toFixed alone rounds the binary value, which may fall either
  // side of a half.
  if (kind === 'rate') return (Math.round(v * 1000) / 10).toFixed(1) + '%';
  if (kind === 'hours') return Number(v).toFixed(1);
  return String(v);
}
