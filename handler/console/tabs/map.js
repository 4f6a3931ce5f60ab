// 地图: the grids and the open tickets, or a heat map of the reports.
import { $, el, svg, str, onSubmit } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { todayCST, addDays } from '../lib/format.js';
import { STATUS, OPEN } from '../lib/labels.js';
import { projection, gridRings, wgs84 } from '../lib/geo.js';
import { state, categoryName } from '../lib/state.js';
import { loadGrids } from './grids.js';

// allTickets reads every page of a ticket query, up to cap tickets.
async function allTickets(query, cap) {
  const out = [];
  let cursor = '';
  let total = 0;
  do {
    const page = await api('GET', '/admin/tickets', { query: Object.assign({}, query, { limit: '100', cursor }) });
    out.push(...(page.items || []));
    total = page.total || out.length;
    cursor = page.next_cursor || '';
  } while (cursor && out.length < cap);
  return { items: out, total: Math.max(total, out.length) };
}

async function loadMap() {
  const f = $('map-form').elements;
  const mode = f.mode.value;
  await loadGrids();
  let tickets; let total;
  if (mode === 'heat') {
    ({ items: tickets, total } = await allTickets({ from: str(f.from.value), to: str(f.to.value) }, 5000));
  } else {
    // A server without the 挂账 step refuses status=deferred (400): it
    // has no such tickets.
    const parts = await Promise.all(OPEN.map((s) => allTickets({ status: s }, 2000)
      .catch((e) => { if (e.status === 400 && s === 'deferred') return { items: [], total: 0 }; throw e; })));
    tickets = parts.flatMap((p) => p.items);
    total = parts.reduce((n, p) => n + p.total, 0);
  }
  drawMap(mode, tickets);
  $('map-count').textContent = mode === 'heat'
    ? `${str(f.from.value) || '不限'} 至 ${str(f.to.value) || '不限'} 上报 ${total} 件` + (tickets.length < total ? `（绘出前 ${tickets.length} 件）` : '')
    : `在办工单 ${total} 件` + (tickets.length < total ? `（绘出 ${tickets.length} 件）` : '') + `，网格 ${state.grids.length} 个`;
}

const POINT_CLASS = { submitted: 'p-new', pending: 'p-pending', dispatched: 'p-work', in_progress: 'p-work', deferred: 'p-deferred' };

function drawMap(mode, tickets) {
  const W = 1000; const H = 620;
  const coords = state.grids.flatMap((g) => gridRings(g).flat());
  const pts = tickets.map((t) => [t, wgs84(t)]).filter(([, p]) => p && isFinite(p[0]) && isFinite(p[1]));
  const proj = projection(coords.length ? coords : pts.map(([, p]) => p), W, H, 24);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'map-svg', role: 'img', 'aria-label': '网格与工单地图' });
  const grids = svg('g', { id: 'map-grids' });
  const labels = svg('g', { id: 'map-labels' });
  for (const g of state.grids) {
    const rings = gridRings(g);
    if (!rings.length) continue;
    const d = rings.map((r) => 'M' + r.map((p) => proj(p).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z').join('');
    grids.append(svg('path', { d, class: 'grid-area', 'data-code': g.code, 'fill-rule': 'evenodd' },
      svg('title', { text: `${g.name}（${g.community}）${g.code}` })));
    const xy = rings[0].map(proj);
    const cx = xy.reduce((s, p) => s + p[0], 0) / xy.length;
    const cy = xy.reduce((s, p) => s + p[1], 0) / xy.length;
    labels.append(svg('text', { x: cx.toFixed(1), y: cy.toFixed(1), class: 'grid-label', 'text-anchor': 'middle', text: g.name }));
  }
  root.append(grids);
  if (mode === 'heat') {
    // Reports are counted in square cells, then spread over the cells
    // around with a small Gaussian kernel, so that clusters read as
    // areas rather than as single squares.
    const cell = 16;
    const counts = new Map();
    for (const [, p] of pts) {
      const [x, y] = proj(p);
      const key = `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    const heatv = new Map();
    for (const [key, n] of counts) {
      const [i, j] = key.split(',').map(Number);
      for (let di = -3; di <= 3; di++) {
        for (let dj = -3; dj <= 3; dj++) {
          const k2 = `${i + di},${j + dj}`;
          heatv.set(k2, (heatv.get(k2) || 0) + n * Math.exp(-(di * di + dj * dj) / 3));
        }
      }
    }
    const max = Math.max(1e-9, ...heatv.values());
    const heat = svg('g', { id: 'map-heat' });
    for (const [key, v] of heatv) {
      const r = v / max;
      if (r < 0.04) continue;
      const [i, j] = key.split(',').map(Number);
      heat.append(svg('rect', {
        x: i * cell, y: j * cell, width: cell, height: cell,
        class: r > 0.66 ? 'heat h3' : r > 0.33 ? 'heat h2' : 'heat h1', 'fill-opacity': (0.1 + 0.7 * r).toFixed(2),
      }, counts.has(key) ? svg('title', { text: `此处 ${counts.get(key)} 件` }) : null));
    }
    root.append(heat, labels);
    $('map-legend').replaceChildren(el('span', null, el('i', { class: 'swatch heat-lo' }), '上报较少'),
      el('span', null, el('i', { class: 'swatch heat-mid' }), '较多'),
      el('span', null, el('i', { class: 'swatch heat-hi' }), '集中'),
      el('span', null, `共 ${pts.length} 件，按方格统计并向周围平滑`));
  } else {
    root.append(labels);
    const dots = svg('g', { id: 'map-points' });
    let outside = 0;
    for (const [t, p] of pts) {
      let [x, y] = proj(p);
      // A ticket far from every grid (in the staff's queue) is drawn at
      // the edge, toward where it is, so the grids keep their size.
      const cx = Math.min(W - 8, Math.max(8, x));
      const cy = Math.min(H - 8, Math.max(8, y));
      const out = cx !== x || cy !== y;
      if (out) outside++;
      [x, y] = [cx, cy];
      const c = svg('circle', {
        cx: x.toFixed(1), cy: y.toFixed(1), r: 6, tabindex: 0, 'data-id': t.id,
        class: `pt ${POINT_CLASS[t.status] || 'p-work'}${t.overdue ? ' overdue' : ''}${out ? ' outside' : ''}`,
      }, svg('title', { text: `${STATUS[t.status] || t.status}${t.overdue ? '·超期' : ''}${out ? '·在网格范围外' : ''} ${categoryName(t.category)} ${t.address || ''}` }));
      dots.append(c);
    }
    root.append(dots);
    $('map-legend').replaceChildren(...[
      ['p-new', '待筛查'], ['p-pending', '待派遣'], ['p-work', '已派遣 / 处置中'], ['p-deferred', '已挂账'], ['overdue', '超期（红圈）'],
      ...(outside ? [['outside', `网格范围外 ${outside} 件（画在边缘）`]] : []),
    ].map(([cls, label]) => el('span', null, el('i', { class: 'swatch ' + cls }), label)));
  }
  $('map').replaceChildren(root);
}

export function wire() {
  const mf = $('map-form').elements;
  const today = todayCST();
  mf.to.value = today;
  mf.from.value = addDays(today, -29);
  onSubmit($('map-form'), loadMap);
  mf.mode.addEventListener('change', () => $('map-form').requestSubmit());
  $('map').addEventListener('click', (ev) => {
    const c = ev.target.closest('circle[data-id]');
    if (c) location.hash = '#tickets/' + enc(c.dataset.id);
  });
  $('map').addEventListener('keydown', (ev) => {
    const c = ev.target.closest('circle[data-id]');
    if (c && ev.key === 'Enter') location.hash = '#tickets/' + enc(c.dataset.id);
  });
}

export function show(arg, first) { return first && loadMap(); }
