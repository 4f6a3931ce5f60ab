// What every tab shares: the catalogue, the grids, the party branches, the
// tab on screen; names for codes.
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
