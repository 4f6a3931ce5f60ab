// What every tab shares: the catalogue, the grids, the party branches, and
// the tab on screen.
import { el } from './dom.js';
import { STATUS } from './labels.js';

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
  return el('span', { class: 'status status-' + s, text: STATUS[s] || s });
}
