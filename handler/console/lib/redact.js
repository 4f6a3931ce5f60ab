// 打码: blurring parts of a photo (faces, number plates, house numbers)
// before residents, workers and Open311 see it. The clerk drags
// rectangles over the photo as it is; the regions go to the server as
// fractions of its width and height (POST /admin/photos/{id}/redact),
// which blurs them in the stored image. The rectangles are SVG in a 1×1
// view box laid over the image, so nothing here sets a style.
import { el, svg, errorText } from './dom.js';
import { api, enc } from './api.js';

const MAX = 32; // the server takes 1–32 regions
let box = null; // the editor on screen: {root, img, layer, rects, id, done}

// open shows the editor for photo {id, url, title}; done(answer) runs once
// the server has blurred it.
export function open(photo, done) {
  close();
  const layer = svg('svg', { class: 'redact-layer', viewBox: '0 0 1 1', preserveAspectRatio: 'none', 'aria-label': '打码区域' });
  const img = el('img', { class: 'redact-img', src: photo.url, alt: photo.title || '照片', draggable: 'false' });
  const count = el('span', { class: 'muted', 'data-count': '' });
  const error = el('p', { class: 'error' });
  const save = el('button', { type: 'button', 'data-save': '', text: '保存打码' });
  const undo = el('button', { type: 'button', class: 'secondary', text: '撤销上一个' });
  const clear = el('button', { type: 'button', class: 'secondary', text: '全部清除' });
  const cancel = el('button', { type: 'button', class: 'link', text: '取消' });
  const root = el('div', { id: 'redact', class: 'redact-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-label': '照片打码' },
    el('div', { class: 'redact-card card' },
      el('div', { class: 'detail-head' }, el('h2', { text: '照片打码' }), cancel),
      el('p', { class: 'muted small', text: '在照片上按住鼠标拖动，框出人脸、车牌、门牌、电话号码等需要遮挡的区域，可框多处。'
        + '保存后，居民、处置人员和 Open311 看到的都是打码后的照片（派遣员和管理员仍可查看原图）。此操作将记入访问记录。' }),
      el('div', { class: 'redact-stage' }, img, layer),
      el('div', { class: 'buttons' }, save, undo, clear, count),
      error));
  box = { root, img, layer, rects: [], id: photo.id };
  const show = () => {
    count.textContent = box && box.rects.length ? `已框出 ${box.rects.length} 处` : '尚未框出区域';
    save.disabled = !box || !box.rects.length;
  };
  show();

  // Dragging: a rectangle from where the button went down to where it is.
  let start = null;
  let drawing = null;
  const at = (ev) => {
    const r = layer.getBoundingClientRect();
    return [clamp((ev.clientX - r.left) / r.width), clamp((ev.clientY - r.top) / r.height)];
  };
  layer.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0 || box.rects.length >= MAX) return;
    ev.preventDefault();
    layer.setPointerCapture(ev.pointerId);
    start = at(ev);
    drawing = svg('rect', { class: 'redact-rect', x: start[0], y: start[1], width: 0, height: 0 });
    layer.append(drawing);
  });
  layer.addEventListener('pointermove', (ev) => {
    if (!start) return;
    const r = span(start, at(ev));
    drawing.setAttribute('x', r.x);
    drawing.setAttribute('y', r.y);
    drawing.setAttribute('width', r.w);
    drawing.setAttribute('height', r.h);
  });
  const end = (ev) => {
    if (!start) return;
    const r = span(start, at(ev));
    start = null;
    // A click without a drag is no region.
    if (r.w < 0.01 || r.h < 0.01) drawing.remove();
    else box.rects.push({ r, node: drawing });
    drawing = null;
    show();
  };
  layer.addEventListener('pointerup', end);
  layer.addEventListener('pointercancel', end);

  undo.addEventListener('click', () => { const last = box.rects.pop(); if (last) last.node.remove(); show(); });
  clear.addEventListener('click', () => { for (const x of box.rects) x.node.remove(); box.rects = []; show(); });
  cancel.addEventListener('click', close);
  root.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') close(); });
  save.addEventListener('click', async () => {
    const id = box.id;
    const rects = box.rects.map((x) => x.r);
    error.textContent = '';
    save.disabled = true;
    try {
      const res = await api('POST', `/admin/photos/${enc(id)}/redact`, { json: { rects } });
      close();
      await done(res);
    } catch (e) {
      error.textContent = errorText(e);
      save.disabled = false;
    }
  });
  img.addEventListener('error', () => { error.textContent = '照片读取失败，请关闭后重试。'; });
  // As large as the window allows, in its own proportions (the width and
  // height attributes: the regions are fractions of what is drawn).
  img.addEventListener('load', () => {
    const scale = Math.min((Math.min(window.innerWidth, 1000) - 80) / img.naturalWidth, (window.innerHeight * 0.68) / img.naturalHeight);
    img.width = Math.round(img.naturalWidth * scale);
    img.height = Math.round(img.naturalHeight * scale);
    root.dataset.ready = '1'; // drawn at its size (the browser test waits for it)
  });
  document.body.append(root);
  save.focus();
}

// close removes the editor, if open.
export function close() {
  if (box) box.root.remove();
  box = null;
}

function clamp(v) { return Math.min(1, Math.max(0, v)); }

// span is the rectangle between two corners, in fractions rounded to
// 1/10000 (what a person can point at).
function span(a, b) {
  const round = (v) => Math.round(v * 10000) / 10000;
  const x = Math.min(a[0], b[0]);
  const y = Math.min(a[1], b[1]);
  return { x: round(x), y: round(y), w: round(Math.abs(a[0] - b[0])), h: round(Math.abs(a[1] - b[1])) };
}
