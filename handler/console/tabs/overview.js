// 概览: today's, this month's and this year's figures, the last 30 days,
// the month's categories and party-building figures.
import { $, el, errorText, onClick } from '../lib/dom.js';
import { api, session } from '../lib/api.js';
import { fmtNumber, todayCST, addDays, clockFormat } from '../lib/format.js';
import { lineChart, barChart } from '../lib/chart.js';
import { state, categoryName } from '../lib/state.js';
import { on as onLive } from '../lib/live.js';

// The statistics' figures, in the order of the table's columns. 超期在办
// is not among them: the statistics count a period by the day each ticket
// went overdue, while the overview's own 超期在办 (above the table) is
// what is open and overdue now, the total of its list.
const FIGURES = [
  ['reported'], ['registered'], ['closed'], ['resolution_rate', 'rate'], ['on_time_rate', 'rate'],
  ['reopen_rate', 'rate'], ['satisfaction_rate', 'rate'],
];

// Figures that mean trouble when they are not zero.
const ALARM = new Set(['open_overdue', 'held', 'late']);

// loadWork shows the figures a shift starts from (GET /admin/overview):
// each is the total of the ticket list it links to, counted by the same
// query.
async function loadWork() {
  const o = await api('GET', '/admin/overview');
  $('ov-work').replaceChildren(...(o.figures || []).map((f) => el('a', {
    class: 'tile link' + (ALARM.has(f.key) && f.count > 0 ? ' alarm' : ''), href: '#/tickets?' + f.query,
    'data-fig': 'work.' + f.key, 'data-query': f.query, title: `打开“${f.label}”的工单清单`,
  }, el('div', { class: 'tile-value', text: String(f.count) + (f.capped ? '+' : '') }), el('div', { class: 'tile-label', text: f.label }))));
}

// loadOverview reads today's, this month's and this year's summaries,
// the last 30 days by day and this month's party-building figures. The
// top categories are the groups of this month's call, so the figures and
// the chart cannot disagree.
async function loadOverview() {
  const today = todayCST();
  const month = today.slice(0, 7) + '-01';
  const year = today.slice(0, 4) + '-01-01';
  const from30 = addDays(today, -29);
  const soft = (p) => p.catch((e) => e);
  const [, day, mon, yr, trend, party] = await Promise.all([
    loadWork(),
    api('GET', '/stats/summary', { query: { from: today, to: today } }),
    api('GET', '/stats/summary', { query: { from: month, to: today, group_by: 'category' } }),
    api('GET', '/stats/summary', { query: { from: year, to: today } }),
    soft(api('GET', '/stats/summary', { query: { from: from30, to: today, group_by: 'day' } })),
    soft(api('GET', '/stats/party-building', { query: { from: month, to: today } })),
  ]);
  $('ov-error').textContent = '';
  $('ov-figures').replaceChildren(...[['today', '今日', day], ['month', '本月', mon], ['year', '本年', yr]].map(([key, label, s]) =>
    el('tr', null, el('th', { scope: 'row', text: label }), ...FIGURES.map(([k, kind]) =>
      el('td', { 'data-fig': `${key}.${k}`, class: 'num', text: fmtNumber(s[k], kind) })))));

  $('ov-trend-range').textContent = `${from30} 至 ${today}`;
  if (trend instanceof Error) {
    $('ov-trend').replaceChildren(el('p', { class: 'error', text: '趋势图无法加载：' + errorText(trend) }));
  } else {
    const byDay = new Map((trend.groups || []).map((g) => [String(g.key).slice(0, 10), g]));
    const days = [];
    for (let d = from30; d <= today; d = addDays(d, 1)) days.push(d);
    $('ov-trend').replaceChildren(lineChart(days.map((d) => d.slice(5)), [
      { name: '上报', cls: 's1', values: days.map((d) => (byDay.get(d) || {}).reported || 0) },
      { name: '结案', cls: 's2', values: days.map((d) => (byDay.get(d) || {}).closed || 0) },
    ]));
  }

  const top = (mon.groups || []).slice().sort((a, b) => (b.reported || 0) - (a.reported || 0)).slice(0, 8);
  $('ov-categories').replaceChildren(top.length
    ? barChart(top.map((g) => ({ label: g.name || categoryName(g.key), value: g.reported || 0 })))
    : el('p', { class: 'muted', text: '本月还没有上报。' }));

  if (party instanceof Error) {
    $('ov-party').replaceChildren(el('p', { class: 'error', text: errorText(party) }));
  } else {
    $('ov-party').replaceChildren(...[
      ['党员参与解决问题', party.resolved_with_party_members, 'resolved_with_party_members'],
      ['党员参与人次', party.participations, 'participations'],
      ['参与党员', party.distinct_members, 'distinct_members'],
      ['党员活动', party.activities, 'activities'],
      ['活动参与人次', party.activity_participations, 'activity_participations'],
    ].map(([label, v, k]) => el('div', { class: 'tile' },
      el('div', { class: 'tile-value', 'data-fig': 'party.' + k, text: fmtNumber(v) }),
      el('div', { class: 'tile-label', text: label }))));
  }
  // The summary says when the statistics last counted a transition
  // (docs/statistics.md, Freshness); the newest of the three calls.
  const counted = [day, mon, yr].map((x) => Date.parse(x.updated_at)).filter((v) => !isNaN(v));
  const at = counted.length ? new Date(Math.max(...counted)) : null;
  $('ov-updated').textContent = at
    ? `数据更新于 ${clockFormat.format(at)}（北京时间，读取于 ${clockFormat.format(new Date()).slice(-8)}）`
    : `数据更新于 ${clockFormat.format(new Date())}（北京时间）`;
}

let pending = 0;

export function wire() {
  // Refreshed by hand, every minute while it is on screen, and its work
  // figures a moment after the live feed says a ticket changed.
  onClick($('ov-refresh'), loadOverview);
  setInterval(() => {
    if (state.tab === 'overview' && !document.hidden && session()) loadOverview().catch((e) => { $('ov-error').textContent = errorText(e); });
  }, 60000);
  onLive(() => {
    if (state.tab !== 'overview' || pending) return;
    pending = setTimeout(() => {
      pending = 0;
      loadWork().catch((e) => { $('ov-error').textContent = errorText(e); });
    }, 1000);
  });
}

export function show() { return loadOverview(); }
