// 地图: the base layers, the grids and the open tickets — kept up to date
// from the live feed — or a heat map of a period's reports. Tickets on the
// same spot fan out around it, so each can be clicked; a crowd too big to
// fan out is one circle with its count, which lists them.
import { $, el, svg, str, onSubmit, showError } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { todayCST, addDays } from '../lib/format.js';
import { label, OPEN } from '../lib/labels.js';
import { wgs84 } from '../lib/geo.js';
import { on as onLive, fetchTicket } from '../lib/live.js';
import { baseMap, loadLayers, layerLegend } from '../lib/mapdraw.js';
import { state, categoryName, ref } from '../lib/state.js';
import { loadGrids } from './grids.js';

const W = 1000;
const H = 620;
// Points closer than this (in the map's units) are one spot.
const NEAR = 9;
// A spot with more tickets than this is drawn as a count.
const FAN_MAX = 12;

const view = {
  mode: 'open',
  tickets: new Map(), // id → ticket drawn (open mode)
  total: 0,
  added: 0,
  changed: 0,
  loaded: false,
};

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
  view.mode = f.mode.value;
  await Promise.all([loadGrids(), loadLayers(true)]);
  let tickets;
  if (view.mode === 'heat') {
    const r = await allTickets({ from: str(f.from.value), to: str(f.to.value) }, 5000);
    tickets = r.items;
    view.total = r.total;
  } else {
    const r = await allTickets({ status: OPEN.join(',') }, 5000);
    tickets = r.items;
    view.total = r.total;
  }
  view.tickets = new Map(tickets.map((t) => [t.id, t]));
  view.added = 0;
  view.changed = 0;
  view.loaded = true;
  draw();
}

function countText() {
  const f = $('map-form').elements;
  const n = view.tickets.size;
  if (view.mode === 'heat') {
    return `${str(f.from.value) || '不限'} 至 ${str(f.to.value) || '不限'} 上报 ${view.total} 件` + (n < view.total ? `（绘出前 ${n} 件）` : '');
  }
  const news = view.added || view.changed ? `；实时：新增 ${view.added} 件，更新 ${view.changed} 件` : '';
  return `在办工单 ${n} 件，网格 ${state.grids.length} 个${news}`;
}

const POINT_CLASS = { submitted: 'p-new', pending: 'p-pending', dispatched: 'p-work', in_progress: 'p-work', deferred: 'p-deferred' };

function pointTitle(t, out) {
  return `${ref(t)} ${label('status', t.status)}${t.overdue ? '·' + label('flag', 'overdue') : ''}${out ? '·在网格范围外' : ''} ${categoryName(t.category)} ${t.address || ''}`;
}

function draw() {
  const tickets = [...view.tickets.values()];
  const pts = tickets.map((t) => [t, wgs84(t)]).filter(([, p]) => p && isFinite(p[0]) && isFinite(p[1]));
  const { root, proj, names } = baseMap(W, H, pts.map(([, p]) => p), '网格与工单地图');
  root.querySelector('.map-grids').id = 'map-grids';
  if (view.mode === 'heat') drawHeat(root, proj, pts);
  else drawPoints(root, proj, pts);
  root.append(names);
  $('map').replaceChildren(root);
  $('map-count').textContent = countText();
}

function drawHeat(root, proj, pts) {
  // Reports are counted in square cells, then spread over the cells
  // around with a small Gaussian kernel, so that clusters read as areas
  // rather than as single squares.
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
  root.append(heat);
  $('map-legend').replaceChildren(el('span', null, el('i', { class: 'swatch heat-lo' }), '上报较少'),
    el('span', null, el('i', { class: 'swatch heat-mid' }), '较多'),
    el('span', null, el('i', { class: 'swatch heat-hi' }), '集中'),
    el('span', null, `共 ${pts.length} 件，按方格统计并向周围平滑`), ...layerLegend());
}

// spots groups the points that fall on the same spot of the map (within
// NEAR), in the order given; a ticket far from every grid is drawn at the
// edge, toward where it is, so the grids keep their size.
function spots(proj, pts) {
  const out = [];
  for (const [t, p] of pts) {
    const [x0, y0] = proj(p);
    const x = Math.min(W - 10, Math.max(10, x0));
    const y = Math.min(H - 10, Math.max(10, y0));
    const outside = x !== x0 || y !== y0;
    const s = out.find((o) => Math.hypot(o.x - x, o.y - y) < NEAR);
    if (s) s.items.push({ t, outside });
    else out.push({ x, y, items: [{ t, outside }] });
  }
  return out;
}

function dot(t, x, y, outside) {
  return svg('circle', {
    cx: x.toFixed(1), cy: y.toFixed(1), r: 6, tabindex: 0, 'data-id': t.id, 'data-case': t.case_no || '',
    class: `pt ${POINT_CLASS[t.status] || 'p-work'}${t.overdue ? ' overdue' : ''}${outside ? ' outside' : ''}`,
  }, svg('title', { text: pointTitle(t, outside) }));
}

function drawPoints(root, proj, pts) {
  const dots = svg('g', { id: 'map-points' });
  let outside = 0;
  let fanned = 0;
  let crowds = 0;
  for (const s of spots(proj, pts)) {
    outside += s.items.filter((i) => i.outside).length;
    if (s.items.length === 1) {
      const { t, outside: out } = s.items[0];
      dots.append(dot(t, s.x, s.y, out));
      continue;
    }
    if (s.items.length <= FAN_MAX) {
      // Fanned out on a circle around the spot, each tied to it by a line.
      // A spot at the edge moves in, so that the whole fan is on the map.
      fanned += s.items.length;
      const r = 12 + 2 * s.items.length;
      const cx = Math.min(W - r - 8, Math.max(r + 8, s.x));
      const cy = Math.min(H - r - 8, Math.max(r + 8, s.y));
      const g = svg('g', { class: 'fan', 'data-count': s.items.length });
      g.append(svg('circle', { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 3, class: 'fan-hub' }));
      s.items.forEach(({ t, outside: out }, i) => {
        const a = -Math.PI / 2 + (2 * Math.PI * i) / s.items.length;
        const x = cx + r * Math.cos(a);
        const y = cy + r * Math.sin(a);
        g.append(svg('line', { x1: cx.toFixed(1), y1: cy.toFixed(1), x2: x.toFixed(1), y2: y.toFixed(1), class: 'fan-line' }), dot(t, x, y, out));
      });
      dots.append(g);
      continue;
    }
    // Too many to fan out: a circle with the count; a click lists them.
    crowds++;
    const ids = s.items.map((i) => i.t.id).join(' ');
    dots.append(svg('g', { class: 'crowd', tabindex: 0, 'data-ids': ids, 'data-count': s.items.length },
      svg('circle', { cx: s.x.toFixed(1), cy: s.y.toFixed(1), r: 14 }),
      svg('text', { x: s.x.toFixed(1), y: (s.y + 4).toFixed(1), 'text-anchor': 'middle', text: String(s.items.length) }),
      svg('title', { text: `此处 ${s.items.length} 件，点击列出` })));
  }
  root.append(dots);
  $('map-legend').replaceChildren(...[
    ['p-new', label('status', 'submitted')], ['p-pending', label('status', 'pending')],
    ['p-work', `${label('status', 'dispatched')} / ${label('status', 'in_progress')}`], ['p-deferred', label('status', 'deferred')],
    ['overdue', `${label('flag', 'overdue')}（红圈）`],
    ...(outside ? [['outside', `网格范围外 ${outside} 件（画在边缘）`]] : []),
    ...(fanned ? [['fan', `同一地点的多件展开排列`]] : []),
    ...(crowds ? [['crowd', `数字为同一地点的件数`]] : []),
  ].map(([cls, text]) => el('span', null, el('i', { class: 'swatch ' + cls }), text)), ...layerLegend());
}

// crowdList lists the tickets of a crowd beside the map.
function crowdList(ids) {
  const box = $('map-crowd');
  const items = ids.map((id) => view.tickets.get(id)).filter(Boolean);
  box.replaceChildren(el('div', { class: 'detail-head' }, el('h3', { text: `此处 ${items.length} 件` }),
    el('button', { type: 'button', class: 'link', text: '关闭', onclick: () => { box.hidden = true; } })),
  el('ul', { class: 'plain crowd-list' }, ...items.map((t) => el('li', null,
    el('a', { href: '#/tickets/' + enc(ref(t)), text: ref(t) }), ' ', categoryName(t.category), ' ',
    el('span', { class: 'muted', text: label('status', t.status) })))));
  box.hidden = false;
}

// live keeps the open tickets drawn: a new or changed one is read and
// drawn, one no longer open is taken off.
function live(type, data) {
  if (type === 'reset') {
    if (view.loaded && view.mode === 'open') loadMap().catch((e) => showError(null, e));
    return;
  }
  if (!view.loaded || view.mode !== 'open') return;
  const known = view.tickets.has(data.id);
  if (!known && !OPEN.includes(data.status)) return;
  fetchTicket(data).then((t) => {
    if (OPEN.includes(t.status)) {
      view.tickets.set(t.id, t);
      if (known) view.changed++;
      else view.added++;
    } else if (view.tickets.delete(t.id)) view.changed++;
    if (state.tab === 'map') draw();
    else view.dirty = true;
  }, () => {});
}

export function wire() {
  const mf = $('map-form').elements;
  const today = todayCST();
  mf.to.value = today;
  mf.from.value = addDays(today, -29);
  onSubmit($('map-form'), loadMap);
  mf.mode.addEventListener('change', () => $('map-form').requestSubmit());
  const go = (target) => {
    const c = target.closest('circle[data-id]');
    if (c) { location.hash = '#/tickets/' + enc(c.dataset.case || c.dataset.id); return; }
    const crowd = target.closest('g.crowd');
    if (crowd) crowdList(crowd.dataset.ids.split(' '));
  };
  $('map').addEventListener('click', (ev) => go(ev.target));
  $('map').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go(ev.target); });
  onLive(live);
}

export function show(args, query, first) {
  if (first) return loadMap();
  if (view.dirty) { view.dirty = false; draw(); }
  return undefined;
}
