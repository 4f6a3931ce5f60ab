// The map's base drawing, shared by 地图 and the hotline form: the uploaded
// base layers (roads, boundaries) under the grids, the grids with their
// names. Everything is the server's own data drawn as SVG; no tile is
// fetched from anywhere.
import { api } from './api.js';
import { el, svg } from './dom.js';
import { projection, gridRings, geometries, lines } from './geo.js';
import { state } from './state.js';

let layers = null; // the base layers, read once per page

// loadLayers reads the base layers (GET /admin/layers) once; a failure
// leaves the map without them.
export async function loadLayers(again) {
  if (layers && !again) return layers;
  try {
    const page = await api('GET', '/admin/layers');
    layers = (page.items || []).map((l) => ({
      id: l.id, name: l.name, kind: l.kind, count: l.features, created_at: l.created_at, geoms: geometries(l.geojson),
    }));
  } catch (e) {
    console.error(e);
    layers = [];
  }
  return layers;
}

const path = (rings, proj, close) => rings.map((r) => 'M' + r.map((p) => proj(p).map((v) => v.toFixed(1)).join(',')).join('L') + (close ? 'Z' : '')).join('');

// baseMap draws the layers and the grids in a width × height box fitted to
// the grids (or to fit, [lng, lat] points, when there are none). It
// returns the <svg> and its projection.
export function baseMap(width, height, fit, label) {
  const coords = state.grids.flatMap((g) => gridRings(g).flat());
  const proj = projection(coords.length ? coords : fit, width, height, 24);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'map-svg', role: 'img', 'aria-label': label || '网格地图' });
  const under = svg('g', { class: 'map-layers' });
  for (const l of layers || []) {
    for (const g of l.geoms) {
      const closed = g.type === 'Polygon' || g.type === 'MultiPolygon';
      under.append(svg('path', { d: path(lines(g), proj, closed), class: `layer layer-${l.kind || 'other'}${closed ? ' area' : ''}`, 'fill-rule': 'evenodd' },
        svg('title', { text: l.name })));
    }
  }
  const grids = svg('g', { class: 'map-grids' });
  const names = svg('g', { class: 'map-labels' });
  for (const g of state.grids) {
    const rings = gridRings(g);
    if (!rings.length) continue;
    grids.append(svg('path', { d: path(rings, proj, true), class: 'grid-area', 'data-code': g.code, 'fill-rule': 'evenodd' },
      svg('title', { text: `${g.name}（${g.community}）${g.code}` })));
    const xy = rings[0].map(proj);
    const cx = xy.reduce((s, p) => s + p[0], 0) / xy.length;
    const cy = xy.reduce((s, p) => s + p[1], 0) / xy.length;
    names.append(svg('text', { x: cx.toFixed(1), y: cy.toFixed(1), class: 'grid-label', 'text-anchor': 'middle', text: g.name }));
  }
  root.append(under, grids);
  return { root, proj, names };
}

// layerLegend names the layers drawn, for a map's legend.
export function layerLegend() {
  return (layers || []).map((l) => el('span', null, el('i', { class: `swatch line layer-${l.kind || 'other'}` }), l.name));
}
