// Type-ahead: a list of suggestions under an input, by mouse or keyboard
// (↑ ↓ Enter Esc), and a chooser of several values shown as chips. Clerks
// pick grids, communities, addresses and people by name; codes and ids
// stay behind the names.
import { el } from './dom.js';

let seq = 0;

// suggest attaches suggestions to input: source(text) gives (or promises)
// items {value, label, hint?}; onPick(item) is called with the one chosen.
// With min > 0, nothing is suggested for shorter text.
export function suggest(input, { source, onPick, min = 0, empty = '' }) {
  const id = 'sg-' + (++seq);
  const box = el('ul', { class: 'suggest', role: 'listbox', id, hidden: true });
  input.after(box);
  input.parentElement.classList.add('suggest-anchor');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', id);
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('autocomplete', 'off');
  let items = [];
  let active = -1;
  let ask = 0;
  let timer = 0;

  function close() {
    box.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    active = -1;
  }
  function mark(i) {
    active = i;
    [...box.children].forEach((li, k) => li.setAttribute('aria-selected', k === i ? 'true' : 'false'));
    if (box.children[i]) box.children[i].scrollIntoView({ block: 'nearest' });
  }
  function pick(i) {
    const it = items[i];
    if (!it) return;
    close();
    onPick(it);
  }
  async function refresh() {
    const text = input.value.trim();
    if (text.length < min) { close(); return; }
    const n = ++ask;
    let got;
    try { got = await source(text); } catch (e) { got = []; console.error(e); }
    if (n !== ask || document.activeElement !== input) return;
    items = (got || []).slice(0, 12);
    box.replaceChildren(...items.map((it, i) => el('li', {
      role: 'option', 'data-value': it.value, 'aria-selected': 'false',
      onmousedown: (ev) => { ev.preventDefault(); pick(i); },
    }, el('span', { class: 'sg-label', text: it.label }), it.hint ? el('span', { class: 'sg-hint', text: it.hint }) : null)));
    if (!items.length && empty) box.append(el('li', { class: 'sg-empty', text: empty }));
    box.hidden = !box.children.length;
    input.setAttribute('aria-expanded', String(!box.hidden));
    mark(items.length ? 0 : -1);
  }
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 120); });
  input.addEventListener('focus', () => { if (min === 0) refresh(); });
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('keydown', (ev) => {
    if (box.hidden) {
      if (ev.key === 'ArrowDown') { refresh(); ev.preventDefault(); }
      return;
    }
    if (ev.key === 'ArrowDown') { mark(Math.min(items.length - 1, active + 1)); ev.preventDefault(); }
    else if (ev.key === 'ArrowUp') { mark(Math.max(0, active - 1)); ev.preventDefault(); }
    else if (ev.key === 'Enter' && active >= 0) { pick(active); ev.preventDefault(); }
    else if (ev.key === 'Escape') { close(); ev.preventDefault(); }
  });
  return { refresh, close };
}

// matches filters options by every word of text, in the label, the value
// or the hint (a grid by its name, its code or its community).
export function matches(options, text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return options.filter((o) => {
    const hay = `${o.label} ${o.value} ${o.hint || ''}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

// chips turns box (an element holding an input) into a chooser of several
// values from options() ({value, label, hint}); get() gives the values
// chosen, set(values) puts them back.
export function chips(box, options, { single = false } = {}) {
  const input = box.querySelector('input');
  const list = el('span', { class: 'chip-list' });
  box.prepend(list);
  box.classList.add('chips');
  let values = [];
  const labelOf = (v) => (options().find((o) => o.value === v) || { label: v }).label;
  function draw() {
    list.replaceChildren(...values.map((v) => el('span', { class: 'chip', 'data-value': v },
      labelOf(v), el('button', { type: 'button', class: 'chip-x', title: '移除', 'aria-label': '移除 ' + labelOf(v), text: '×', onclick: () => { values = values.filter((x) => x !== v); draw(); input.focus(); } }))));
    input.placeholder = values.length && single ? '' : (input.dataset.placeholder || '');
    box.dispatchEvent(new Event('change', { bubbles: true }));
  }
  input.dataset.placeholder = input.placeholder;
  suggest(input, {
    source: (text) => matches(options().filter((o) => !values.includes(o.value)), text),
    onPick: (it) => { values = single ? [it.value] : [...values, it.value]; input.value = ''; draw(); },
    empty: '没有匹配的名称',
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Backspace' && input.value === '' && values.length) { values = values.slice(0, -1); draw(); }
  });
  box.addEventListener('click', (ev) => { if (ev.target === box) input.focus(); });
  return {
    get: () => values.slice(),
    set: (vs) => { values = (vs || []).slice(); input.value = ''; draw(); },
    // text is what is typed but not chosen, so a form can say so.
    text: () => input.value.trim(),
  };
}
