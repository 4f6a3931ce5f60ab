// 案件处置单: one ticket on one A4 page — number, category, place,
// description, the photos before and after side by side, the timeline and
// the deadline. It is built whenever a ticket is shown, so the browser's
// own print (Ctrl+P) prints it alone (app.css, @media print); the print view
// (#/tickets/<case number>/print) shows it on screen.
import { $, el } from '../lib/dom.js';
import { photoURL } from '../lib/api.js';
import { fmtTime, clockFormat } from '../lib/format.js';
import { label } from '../lib/labels.js';
import { categoryName, gridName, ref } from '../lib/state.js';

// The most timeline rows the page holds; a longer timeline keeps its first
// and last steps and says how many are left out.
const MAX_STEPS = 12;

function photo(title, photos, none) {
  const p = (photos || []).find((x) => photoURL(x.url));
  return el('figure', { class: 'ps-photo' }, el('figcaption', { text: title + ((photos || []).length > 1 ? `（共 ${photos.length} 张，此为第 1 张）` : '') }),
    p ? el('img', { src: photoURL(p.url), alt: title }) : el('div', { class: 'ps-none', text: none }));
}

function person(a) {
  if (!a || !a.id) return '未指派';
  return `${a.name || ''}（${label('role', a.role)}）${a.phone ? ' ' + a.phone : ''}`;
}

export function build(t) {
  const row = (...cells) => el('tr', null, ...cells.map(([k, v, span]) => [el('th', { text: k }), el('td', { colspan: span || null, text: v || '—' })]));
  let steps = t.timeline || [];
  let skipped = 0;
  if (steps.length > MAX_STEPS) {
    skipped = steps.length - MAX_STEPS;
    steps = [...steps.slice(0, 3), null, ...steps.slice(-(MAX_STEPS - 3))];
  }
  const who = (a) => (a ? `${label('role', a.role)} ${a.name || ''}`.trim() : '');
  $('print-sheet').replaceChildren(
    el('header', { class: 'ps-head' },
      el('h1', { text: '城市管理案件处置单' }),
      el('div', { class: 'ps-no' }, '案件编号 ', el('strong', { text: ref(t) }))),
    el('table', { class: 'ps-fields' }, el('tbody', null,
      row(['问题类别', `${categoryName(t.category)}（${t.category}）`], ['案件来源', label('source', t.source)]),
      row(['发生地址', t.address, 3]),
      row(['所属网格', t.grid_id ? `${gridName(t.grid_id)}${t.community ? '（' + t.community + '）' : ''}` : '不在任何网格内'], ['当前状态', label('status', t.status)]),
      row(['上报时间', fmtTime(t.created_at)], ['处置时限', t.due_at ? fmtTime(t.due_at) + (t.overdue ? '（已超期）' : '') : '—']),
      row(['处置人', person(t.assignee)], ['来电人', t.caller ? `${t.caller.name || ''} ${t.caller.phone || ''}`.trim() : '—']))),
    el('section', { class: 'ps-block' }, el('h2', { text: '问题描述' }), el('p', { class: 'ps-text', text: t.description || '—' })),
    el('section', { class: 'ps-photos' },
      photo('处置前', t.photos, '无照片'),
      photo('处置后', t.resolution && t.resolution.photos, t.resolution ? '无照片' : '尚未处置')),
    t.resolution ? el('section', { class: 'ps-block' }, el('h2', { text: '处置结果' }),
      el('p', { class: 'ps-text', text: `${t.resolution.note || ''}（${fmtTime(t.resolution.resolved_at)} 完成）` })) : null,
    el('section', { class: 'ps-block' }, el('h2', { text: '处理经过' }),
      el('table', { class: 'ps-steps' }, el('tbody', null, ...steps.map((ev) => (ev === null
        ? el('tr', null, el('td', { colspan: 4, class: 'ps-skip', text: `（中间 ${skipped} 条记录略，详见系统）` }))
        : el('tr', null, el('td', { class: 'ps-at', text: fmtTime(ev.at) }), el('td', { text: label('event', ev.type) || ev.name }),
          el('td', { text: who(ev.actor) + (ev.assignee ? ' → ' + who(ev.assignee) : '') }), el('td', { text: ev.note || '' }))))))),
    el('footer', { class: 'ps-foot' },
      el('span', { text: '经办人签字：' }), el('span', { text: '核查人签字：' }), el('span', { text: '日期：' }),
      el('small', { text: `打印于 ${clockFormat.format(new Date())}（北京时间） · 市民城管通` })));
}

// showView shows the sheet on screen, with its print button.
export function showView() {
  document.body.classList.add('print-view');
  $('print-bar').hidden = false;
  window.scrollTo(0, 0);
}

export function hideView() {
  document.body.classList.remove('print-view');
  $('print-bar').hidden = true;
}

export function wire({ back }) {
  $('print-now').addEventListener('click', () => window.print());
  $('print-back').addEventListener('click', () => { hideView(); back(); });
}
