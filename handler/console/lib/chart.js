// Line and bar charts in SVG, built element by element.
import { el, svg } from './dom.js';

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (v <= 5) return 5;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// lineChart draws series over the same labels, with a y axis from 0.
export function lineChart(labels, series) {
  const W = 640; const H = 240; const L = 36; const R = 12; const T = 14; const B = 28;
  const max = niceMax(Math.max(1, ...series.flatMap((s) => s.values)));
  const x = (i) => L + (labels.length < 2 ? 0 : i * (W - L - R) / (labels.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': '每日趋势图' });
  for (let k = 0; k <= 5; k++) {
    const v = max * k / 5;
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'gridline' }),
      svg('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end', text: String(Math.round(v)) }));
  }
  labels.forEach((lab, i) => {
    if (i % 5 === 0 || i === labels.length - 1) {
      root.append(svg('text', { x: x(i), y: H - 8, class: 'axis', 'text-anchor': 'middle', text: lab }));
    }
  });
  for (const s of series) {
    root.append(svg('polyline', { class: 'line ' + s.cls, points: s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
    s.values.forEach((v, i) => root.append(svg('circle', { cx: x(i), cy: y(v), r: 2.5, class: 'dot ' + s.cls },
      svg('title', { text: `${labels[i]} ${s.name} ${v}` }))));
  }
  const legend = el('div', { class: 'legend' }, ...series.map((s) => el('span', null, el('i', { class: 'swatch ' + s.cls }), s.name)));
  return el('div', null, root, legend);
}

// barChart draws labelled horizontal bars.
export function barChart(rows) {
  const W = 480; const rowH = 26; const L = 120; const R = 44;
  const H = rows.length * rowH + 8;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': '类别排行图' });
  rows.forEach((r, i) => {
    const yy = 4 + i * rowH;
    const w = (W - L - R) * r.value / max;
    root.append(
      svg('text', { x: L - 8, y: yy + 16, class: 'axis', 'text-anchor': 'end', text: r.label.length > 8 ? r.label.slice(0, 8) + '…' : r.label }),
      svg('rect', { x: L, y: yy + 3, width: Math.max(1, w), height: rowH - 8, class: 'bar', rx: 3 }, svg('title', { text: `${r.label} ${r.value}` })),
      svg('text', { x: L + w + 6, y: yy + 16, class: 'axis', text: String(r.value) }));
  });
  return root;
}
