// 网格: upload the grids' GeoJSON and list them. loadGrids also fills every
// grid and community chooser of the other tabs.
import { $, el, td, flash, onSubmit, onClick } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { gridRings } from '../lib/geo.js';
import { state } from '../lib/state.js';

const MAX_GRID_FILE = 16 << 20; // the server's limit for a GeoJSON upload

export async function loadGrids() {
  const page = await api('GET', '/admin/grids');
  const items = page.items || [];
  state.grids = items;
  $('grid-rows').replaceChildren(...items.map((g) => el('tr', null, td(g.code), td(g.name), td(g.community),
    td(g.geometry ? `${gridRings(g).length} 个边界环` : '—'))));
  $('grid-empty').hidden = items.length > 0;
  const communities = [...new Set(items.map((g) => g.community).filter(Boolean))].sort();
  for (const id of ['f-grid', 'p-grid']) {
    const sel = $(id);
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '', text: '全部' }),
      ...items.map((g) => el('option', { value: g.code, text: `${g.name}（${g.community}）` })));
    sel.value = keep;
  }
  for (const [id, first] of [['a-community', '全部'], ['af-community', '请选择社区']]) {
    const sel = $(id);
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '', text: first }), ...communities.map((c) => el('option', { value: c, text: c })));
    sel.value = keep;
  }
}

export function wire() {
  onSubmit($('grid-upload'), async (fd, form) => {
    const file = fd.get('file');
    if (!file || !file.size) throw new Error('请选择一个 GeoJSON 文件。');
    if (file.size > MAX_GRID_FILE) throw new Error('文件超过 16 MiB。');
    const text = await file.text();
    try { JSON.parse(text); } catch (_) { throw new Error('文件不是有效的 JSON。'); }
    const res = await api('POST', '/admin/grids', { body: text, type: 'application/json' });
    form.reset();
    flash(`已导入 ${(res.items || []).length} 个网格。`);
    await loadGrids();
  });
  onClick($('grid-refresh'), loadGrids);
}

export function show(args, query, first) { return !first && loadGrids(); }
