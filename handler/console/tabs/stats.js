// 统计: the city-management indicators for a period, by group, the
// ranking and the party-building figures; the Excel export.
import { $, el, td, str, errorText, onSubmit, onClick } from '../lib/dom.js';
import { api, download } from '../lib/api.js';
import { fmtNumber, todayCST } from '../lib/format.js';
import { label } from '../lib/labels.js';
import { categoryName } from '../lib/state.js';

const INDICATORS = [
  ['reported', '上报数'], ['registered', '立案数'], ['resolved', '解决数'], ['closed', '结案数'],
  ['on_time', '按期结案数'], ['overdue', '超期数'], ['reopened', '返工数'], ['rated', '评价数'],
  ['satisfied', '满意数'], ['dispatched', '派遣次数'], ['returned', '退回次数'], ['extended', '延期次数'],
  ['deferred', '挂账次数'], ['urged', '督办次数'], ['verify_failed', '核查不通过次数'], ['self_handled', '自处置数'],
  ['open_overdue', '超期未结数'], ['photo_flagged', '处置照片待核查数'],
  ['resolution_rate', '结案率', 'rate'], ['on_time_rate', '按期结案率', 'rate'],
  ['reopen_rate', '返工率', 'rate'], ['satisfaction_rate', '满意率', 'rate'],
  ['valid_report_rate', '有效上报率', 'rate'], ['dispatch_accuracy', '派遣准确率', 'rate'],
  ['mean_hours_to_resolve', '平均处置时长（小时）', 'hours'],
];
const GROUP_COLUMNS = [
  ['reported', '上报'], ['registered', '立案'], ['closed', '结案'], ['overdue', '超期'],
  ['reopened', '返工'], ['resolution_rate', '结案率', 'rate'], ['on_time_rate', '按期结案率', 'rate'],
  ['satisfaction_rate', '满意率', 'rate'], ['mean_hours_to_resolve', '平均时长', 'hours'],
];
const GROUP_NAMES = { category: '类别', grid: '网格', community: '社区', worker: '处置人', source: '来源', day: '日期', month: '月份' };

function statsPeriod() {
  const fd = new FormData($('stats-form'));
  return { from: str(fd.get('from')), to: str(fd.get('to')), group_by: str(fd.get('group_by')) };
}

async function loadStats() {
  const p = statsPeriod();
  const fd = new FormData($('stats-form'));
  const [sum, party] = await Promise.all([
    api('GET', '/stats/summary', { query: p }),
    api('GET', '/stats/party-building', { query: { from: p.from, to: p.to } }),
    loadRanking({ from: p.from, to: p.to, by: str(fd.get('by')), min_sample: str(fd.get('min_sample')) }),
  ]);
  $('stats-period').textContent = `${sum.from || p.from} 至 ${sum.to || p.to}`;
  $('stats-summary').replaceChildren(...INDICATORS.filter(([k]) => sum[k] !== undefined).map(([k, name, kind]) =>
    el('div', { class: 'tile small' }, el('div', { class: 'tile-value', text: fmtNumber(sum[k], kind) }),
      el('div', { class: 'tile-label', text: name }))));

  const groups = sum.groups || [];
  $('stats-groups-box').hidden = !p.group_by;
  $('stats-groups-head').replaceChildren(el('tr', null,
    el('th', { text: GROUP_NAMES[p.group_by] || '分组' }), el('th', { text: '编码' }),
    ...GROUP_COLUMNS.map(([, name]) => el('th', { text: name }))));
  const groupName = (g) => (p.group_by === 'source' ? label('source', g.key) : '') || g.name || (p.group_by === 'category' ? categoryName(g.key) : '') || g.key || '—';
  $('stats-groups').replaceChildren(...(groups.length ? groups.map((g) => el('tr', null,
    td(groupName(g)), td(g.key || '—'), ...GROUP_COLUMNS.map(([k, , kind]) => td(fmtNumber(g[k], kind)))))
    : [el('tr', null, el('td', { colspan: GROUP_COLUMNS.length + 2, class: 'muted', text: '本期没有数据' }))]));

  const rows = [
    ['党员参与解决问题数', party.resolved_with_party_members], ['党员参与人次', party.participations],
    ['参与党员人数', party.distinct_members], ['活动次数', party.activities],
    ...Object.entries(party.activities_by_kind || {}).map(([k, v]) => [`　其中${label('activity_kind', k)}`, v]),
    ['活动参与人次', party.activity_participations],
  ];
  $('party-summary').replaceChildren(...rows.map(([name, v]) =>
    el('tr', null, el('th', { scope: 'row', text: name }), td(fmtNumber(v)))));
  const empty = (n) => [el('tr', null, el('td', { colspan: n, class: 'muted', text: '本期没有数据' }))];
  const branches = party.branches || [];
  $('party-branches').replaceChildren(...(branches.length ? branches.map((b) => el('tr', null,
    td(b.name || b.branch_id), td(String(b.participations)), td(String(b.distinct_members)), td(String(b.resolved))))
    : empty(4)));
  const members = party.members || [];
  $('party-members').replaceChildren(...(members.length ? members.map((m) => el('tr', null,
    td(m.name || m.member_id), td(m.branch || '—'), td(String(m.participations)), td(String(m.resolved))))
    : empty(4)));
}

const WEIGHT_NAMES = { resolution_rate: '结案率', on_time_rate: '按期结案率', reopen_rate: '返工率', satisfaction_rate: '满意率', dispatch_accuracy: '派遣准确率', valid_report_rate: '有效上报率' };

// loadRanking fills the ranking table; its failure is shown there and
// does not hide the other statistics.
async function loadRanking(q) {
  $('rank-error').textContent = '';
  let r;
  try {
    r = await api('GET', '/stats/ranking', { query: q });
  } catch (e) {
    $('rank-rows').replaceChildren();
    $('rank-excluded').textContent = '';
    $('rank-error').textContent = '排名无法加载：' + errorText(e);
    return;
  }
  $('rank-weights').textContent = Object.keys(r.weights || {}).length
    ? '权重：' + Object.entries(r.weights).map(([k, v]) => `${WEIGHT_NAMES[k] || k} ${v}`).join('，') : '';
  const items = r.items || [];
  $('rank-rows').replaceChildren(...(items.length ? items.map((x) => el('tr', null,
    td(String(x.rank)), td(x.name || x.key), td(fmtNumber(x.score === undefined ? null : Number(x.score).toFixed(3))), td(String(x.sample)),
    td(fmtNumber(x.resolution_rate, 'rate')), td(fmtNumber(x.on_time_rate, 'rate')),
    td(fmtNumber(x.reopen_rate, 'rate')), td(fmtNumber(x.satisfaction_rate, 'rate'))))
    : [el('tr', null, el('td', { colspan: 8, class: 'muted', text: '本期没有达到最少样本的单位' }))]));
  const ex = r.excluded || [];
  $('rank-excluded').textContent = ex.length ? `样本不足未排名：${ex.map((x) => `${x.name || x.key}（${x.sample}）`).join('、')}` : '';
}

async function exportStats() {
  const p = statsPeriod();
  const res = await api('GET', '/stats/export.xlsx', { query: { from: p.from, to: p.to }, raw: true });
  await download(res, `城管统计_${p.from}_${p.to}.xlsx`);
}

export function wire() {
  const sf = $('stats-form').elements;
  const today = todayCST();
  sf.to.value = today;
  sf.from.value = today.slice(0, 4) + '-01-01';
  onSubmit($('stats-form'), loadStats);
  onClick($('stats-export'), exportStats);
}

export function show(args, query, first) { return first && loadStats(); }
