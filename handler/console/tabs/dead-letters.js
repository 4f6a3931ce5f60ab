// 死信: queue jobs that failed again and again, for the operator.
import { $, el, td, onClick } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtTime } from '../lib/format.js';

async function loadDeadLetters() {
  const page = await api('GET', '/admin/dead-letters');
  const items = page.items || [];
  $('dead-rows').replaceChildren(...items.map((d) => el('tr', null,
    td(fmtTime(d.at)), td(d.queue), td(d.reason),
    td(el('details', null, el('summary', { text: '查看' }), el('pre', { class: 'payload', text: d.payload }))))));
  $('dead-empty').hidden = items.length > 0;
}

export function wire() { onClick($('dead-refresh'), loadDeadLetters); }

export function show() { return loadDeadLetters(); }
