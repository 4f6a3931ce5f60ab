// What every tab shares: the catalogue, the grids, the party branches, the
// tab on screen; names for codes; where a point is.
import { el } from './dom.js';
import { label } from './labels.js';

export const state = {
  categories: new Map(), // code → category
  grids: [], // as listed, with geometry
  branches: [],
  tab: '',
};

export function categoryName(code) {
  const c = state.categories.get(code);
  return c ? c.name : (code || '—');
}

export function gridName(code) {
  const g = state.grids.find((x) => x.code === code);
  return g ? g.name : (code || '无网格');
}

export function statusTag(s) {
  return el('span', { class: 'status status-' + s, text: label('status', s) });
}

// ref is how a clerk names a ticket: its case number, or its id before it
// had one.
export function ref(t) { return (t && (t.case_no || t.id)) || ''; }

// gridOptions are the grids for a chooser: by name, with the community and
// the code to tell them apart.
export function gridOptions() {
  return state.grids.map((g) => ({ value: g.code, label: g.name, hint: `${g.community || ''} · ${g.code}` }));
}

export function communityOptions() {
  const n = new Map();
  for (const g of state.grids) if (g.community) n.set(g.community, (n.get(g.community) || 0) + 1);
  return [...n.keys()].sort().map((c) => ({ value: c, label: c, hint: `${n.get(c)} 个网格` }));
}

// inRing reports whether [lng, lat] is inside a closed ring (even-odd).
function inRing(p, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]; const [xj, yj] = ring[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < (xj - xi) * (p[1] - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// gridAt is the grid whose outline holds the WGS-84 point [lng, lat], or
// null: the console says so before a call is taken outside every grid.
export function gridAt(p) {
  for (const g of state.grids) {
    const geom = g.geometry;
    if (!geom) continue;
    const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates || [];
    for (const poly of polys) {
      if (poly.length && inRing(p, poly[0]) && !poly.slice(1).some((hole) => inRing(p, hole))) return g;
    }
  }
  return null;
}

