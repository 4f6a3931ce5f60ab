// 网格: the grids' GeoJSON, the address book (地址库) and the map's base
// layers — upload and list them. loadGrids also fills every grid and
// community chooser of the other tabs.
import { $, el, td, str, flash, onSubmit, onClick, confirmClick } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';
import { gridRings } from '../lib/geo.js';
import { label, codes } from '../lib/labels.js';
import { loadLayers } from '../lib/mapdraw.js';
import { suggest } from '../lib/suggest.js';
import { state } from '../lib/state.js';

const MAX_GRID_FILE = 16 << 20; // the server's limit for a GeoJSON upload
const MAX_ADDRESS_FILE = 16 << 20; // … for an address book upload
const MAX_LAYER_FILE = 4 << 20; // … for a base layer

// fileType is the media type an upload is sent with, by its name: the
// server reads a CSV (UTF-8 or GBK) or GeoJSON as it is, byte for byte.
function fileType(file) {
  return /\.csv$/i.test(file.name) ? 'text/csv' : 'application/geo+json';
}

function chosen(fd, max, what) {
  const file = fd.get('file');
  if (!file || !file.size) throw new Error(`请选择${what}文件。`);
  if (file.size > max) throw new Error(`文件超过 ${max >> 20} MiB。`);
  return file;
}

async function loadLayerRows() {
  const items = await loadLayers(true);
  $('layer-rows').replaceChildren(...(items.length ? items.map((l) => {
    const del = el('button', { type: 'button', class: 'link danger-link', 'data-layer': l.id, text: '删除' });
    confirmClick(del, '确认删除？', async () => {
      await api('DELETE', '/admin/layers/' + enc(l.id));
      flash(`已删除图层“${l.name}”。`);
      await loadLayerRows();
    });
    return el('tr', { 'data-id': l.id }, td(l.name), td(label('layer_kind', l.kind)), td(String(l.count)), td(fmtTime(l.created_at)), td(del));
  }) : [el('tr', null, el('td', { colspan: 5, class: 'muted', text: '尚未上传底图图层。' }))]));
}

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

// labelled fills the layer kinds with the server's words.
export function labelled() {
  $('layer-kind').replaceChildren(...codes('layer_kind').map((k) => el('option', { value: k, text: label('layer_kind', k) })));
}

export function wire() {
  onSubmit($('grid-upload'), async (fd, form) => {
    const file = chosen(fd, MAX_GRID_FILE, ' GeoJSON ');
    const text = await file.text();
    try { JSON.parse(text); } catch (_) { throw new Error('文件不是有效的 JSON。'); }
    const res = await api('POST', '/admin/grids', { body: text, type: 'application/json' });
    form.reset();
    flash(`已导入 ${(res.items || []).length} 个网格。`);
    await loadGrids();
  });
  onClick($('grid-refresh'), loadGrids);

  onSubmit($('address-upload'), async (fd, form) => {
    const file = chosen(fd, MAX_ADDRESS_FILE, '地址库');
    const res = await api('POST', '/admin/addresses', { body: file, type: fileType(file) });
    const rejected = res.rejected || [];
    form.querySelector('input[type=file]').value = '';
    form.querySelector('[data-result]').textContent = `已导入 ${res.imported} 条（新增 ${res.added === undefined ? '—' : res.added} 条）` +
      (rejected.length ? `，${rejected.length} 行未导入：` : '。');
    $('address-rejected').replaceChildren(...rejected.slice(0, 200).map((r) => el('li', { class: 'error' }, `第 ${r.line} 行：`, r.message)));
  });
  suggest($('address-try'), {
    min: 1,
    empty: '地址库中没有匹配的地址',
    source: async (q) => {
      const page = await api('GET', '/admin/addresses', { query: { q, limit: '10' } });
      return (page.items || []).map((a) => ({ value: a.id, label: a.name, hint: `${a.kind} · ${a.grid_name || '不在任何网格内'}` }));
    },
    onPick: (it) => flash(`${it.label}：${it.hint}`),
  });
  onSubmit($('layer-upload'), async (fd, form) => {
    const file = chosen(fd, MAX_LAYER_FILE, '图层');
    const l = await api('POST', '/admin/layers', { query: { name: str(fd.get('name')), kind: str(fd.get('kind')) }, body: file, type: 'application/geo+json' });
    form.reset();
    labelled();
    flash(`已上传图层“${l.name}”（${l.features} 个要素），地图上画在网格之下。`);
    await loadLayerRows();
  });
}

export function show(args, query, first) { return Promise.all([!first && loadGrids(), loadLayerRows()]); }
