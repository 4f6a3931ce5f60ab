// 12345 热线受理: a call taken by phone. The place comes from the address
// book (type an address, pick it) or a click on the map; the coordinates
// are filled in, and the grid the point is in is said before the case is
// submitted — outside every grid, it goes to the staff's queue. Typing
// coordinates stays possible, folded away.
import { $, el, svg, str, flash, onSubmit, numberIn } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { suggest } from '../lib/suggest.js';
import { baseMap, loadLayers } from '../lib/mapdraw.js';
import { loadGrids } from './grids.js';

const W = 480;
const H = 400;
let picked = null; // {lng, lat, how}
let drawn = null; // {root, proj}
let hooks = { opened: () => {} };

// place sets the call's point (WGS-84) and says which grid it is in, as
// routing will find it: the address book's answer, or the server's
// (GET /admin/grids/locate) for a point on the map or typed.
async function place(lng, lat, how, grid) {
  const mine = { lng, lat, how };
  picked = mine;
  const f = $('hotline-form').elements;
  f.lat.value = lat.toFixed(6);
  f.lng.value = lng.toFixed(6);
  mark();
  const where = $('h-where');
  where.className = 'where muted';
  where.dataset.grid = '';
  where.textContent = `${how} · ${lat.toFixed(5)}, ${lng.toFixed(5)} · 正在确认所在网格…`;
  let g = grid;
  if (!g) {
    try {
      g = await api('GET', '/admin/grids/locate', { query: { lat: lat.toFixed(7), lng: lng.toFixed(7), coord_type: 'wgs84' } });
    } catch (e) {
      if (picked !== mine) return;
      where.className = 'where warn';
      where.textContent = `无法确认所在网格：${e.message}`;
      return;
    }
  }
  if (picked !== mine) return; // another point was chosen meanwhile
  const inside = !!g.grid_code;
  where.replaceChildren();
  where.className = inside ? 'where ok' : 'where warn';
  where.dataset.grid = inside ? g.grid_code : '';
  where.append(el('strong', { text: inside ? `位于${g.grid_name}${g.community ? '（' + g.community + '）' : ''}` : '该位置不在任何网格内' }),
    ` · ${how} · ${lat.toFixed(5)}, ${lng.toFixed(5)}`,
    inside ? '' : el('div', { text: '提交后工单将进入人工派遣队列，由工作人员派遣；请核实地址，或在地图上重新选点。' }));
}

function mark() {
  if (!drawn) return;
  const old = drawn.root.querySelector('#h-pin');
  if (old) old.remove();
  if (!picked) return;
  const [x, y] = drawn.proj([picked.lng, picked.lat]);
  drawn.root.append(svg('g', { id: 'h-pin', class: 'pin' },
    svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 7 }),
    svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 2, class: 'pin-dot' })));
}

async function drawMap() {
  await Promise.all([loadGrids(), loadLayers()]);
  drawn = baseMap(W, H, [], '选点地图：点击选择问题位置');
  drawn.root.append(drawn.names);
  $('h-map').replaceChildren(drawn.root);
  mark();
}

// pointOf is the map's [lng, lat] under a mouse event.
function pointOf(ev) {
  const r = drawn.root;
  const pt = r.createSVGPoint();
  pt.x = ev.clientX;
  pt.y = ev.clientY;
  const p = pt.matrixTransform(r.getScreenCTM().inverse());
  return drawn.proj.invert([p.x, p.y]);
}

function reset() {
  picked = null;
  const where = $('h-where');
  where.className = 'where muted';
  where.dataset.grid = '';
  where.textContent = '位置：从地址库选择地址，或在右侧地图上点击问题所在处。';
  mark();
}

function openForm() {
  $('hotline-form').hidden = false;
  $('hotline-form').elements.category.focus();
  drawMap().catch((e) => { $('h-map').replaceChildren(el('p', { class: 'error', text: '地图无法加载：' + e.message })); });
}

export function wire(h) {
  hooks = h;
  const form = $('hotline-form');
  $('hotline-open').addEventListener('click', openForm);
  $('hotline-close').addEventListener('click', () => { form.hidden = true; });
  suggest($('h-address'), {
    min: 1,
    empty: '地址库中没有匹配的地址：可在地图上点击选点',
    source: async (q) => {
      const page = await api('GET', '/admin/addresses', { query: { q, limit: '10' } });
      return (page.items || []).map((a) => ({ value: a.id, label: a.name, hint: `${a.kind} · ${a.grid_name || '不在任何网格内'}`, a }));
    },
    onPick: (it) => {
      $('h-address').value = it.a.name;
      const loc = it.a.location || {};
      place(Number(loc.lng), Number(loc.lat), '地址库', { grid_code: it.a.grid_code, grid_name: it.a.grid_name, community: it.a.community });
    },
  });
  // Typing the address again forgets a point taken from the book.
  $('h-address').addEventListener('input', () => { if (picked && picked.how === '地址库') reset(); });
  $('h-map').addEventListener('click', (ev) => {
    if (!drawn) return;
    const [lng, lat] = pointOf(ev);
    place(lng, lat, '地图选点');
  });
  for (const name of ['lat', 'lng']) {
    form.elements[name].addEventListener('change', () => {
      const lat = Number(str(form.elements.lat.value));
      const lng = Number(str(form.elements.lng.value));
      if (str(form.elements.lat.value) && str(form.elements.lng.value) && isFinite(lat) && isFinite(lng)) place(lng, lat, '手动输入');
    });
  }
  onSubmit(form, async (fd) => {
    if (!picked && !(str(fd.get('lat')) && str(fd.get('lng')))) {
      throw new Error('请先确定位置：从地址库选择地址，或在地图上点击问题所在处。');
    }
    const t = await api('POST', '/admin/tickets', {
      json: {
        source: 'hotline', category: str(fd.get('category')), description: str(fd.get('description')),
        address: str(fd.get('address')),
        location: { lat: numberIn(fd.get('lat'), '纬度', -90, 90), lng: numberIn(fd.get('lng'), '经度', -180, 180), coord_type: 'wgs84' },
        caller_name: str(fd.get('caller_name')), caller_phone: str(fd.get('caller_phone')),
      },
    });
    form.reset();
    reset();
    form.hidden = true;
    flash(`热线工单已立案：${t.case_no || t.id}。`);
    hooks.opened(t);
  });
}
