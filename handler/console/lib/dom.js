// DOM helpers. Every element is built node by node: API data is set as
// text or as an attribute value, never parsed as HTML.
import { ApiError } from './api.js';

const SVGNS = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

function fill(n, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') n.setAttribute('class', v);
    else if (k === 'text') n.textContent = String(v);
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    n.append(c instanceof Node ? c : String(c));
  }
  return n;
}

// el builds an element; strings become text nodes, so API data is never
// parsed as HTML.
export function el(tag, props, ...children) { return fill(document.createElement(tag), props, children); }

// svg builds an SVG element the same way.
export function svg(tag, props, ...children) { return fill(document.createElementNS(SVGNS, tag), props, children); }

export function td(...children) { return el('td', null, ...children); }

export function flash(message, isError) {
  const f = $('flash');
  f.textContent = message;
  f.className = isError ? 'flash error-flash' : 'flash';
  f.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { f.hidden = true; }, isError ? 8000 : 4000);
}

export function errorText(e) {
  if (e instanceof ApiError) return e.message;
  console.error(e);
  return (e && e.message) || String(e);
}

export function showError(box, e) {
  if (box) box.textContent = errorText(e);
  else flash(errorText(e), true);
}

// onSubmit runs fn for a form, disabling its buttons meanwhile and showing
// any error in the form's [data-error] element. fn gets the button that
// submitted the form, for forms with two answers (批准 / 不批准).
export function onSubmit(form, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = form.querySelector('[data-error]');
    if (box) box.textContent = '';
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn(new FormData(form), form, ev.submitter);
    } catch (e) {
      showError(box, e);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}

// onClick runs an async fn for a button, reporting errors in the flash.
export function onClick(button, fn) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await fn();
    } catch (e) {
      showError(null, e);
    } finally {
      button.disabled = false;
    }
  });
}

// confirmClick asks on the page itself (no browser dialog): the first
// click arms the button with the question, a second one within five
// seconds does it.
export function confirmClick(button, question, fn) {
  const label = button.textContent;
  button.addEventListener('click', async () => {
    if (!button.dataset.armed) {
      button.dataset.armed = '1';
      button.textContent = question;
      button.classList.add('armed');
      button.timer = setTimeout(() => {
        delete button.dataset.armed;
        button.textContent = label;
        button.classList.remove('armed');
      }, 5000);
      return;
    }
    clearTimeout(button.timer);
    delete button.dataset.armed;
    button.classList.remove('armed');
    button.textContent = label;
    button.disabled = true;
    try {
      await fn();
    } catch (e) {
      showError(null, e);
    } finally {
      button.disabled = false;
    }
  });
}

export const str = (v) => (v === null || v === undefined ? '' : String(v)).trim();
export const list = (v) => str(v).split(/[\s,，、;；]+/).filter(Boolean);

// field adds a label and its value to a <dl>, unless the value is empty.
export function field(dl, label, value) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return;
  dl.append(el('dt', { text: label }), el('dd', null, value));
}

export function yes(v, y, n) { return el('span', { class: v ? 'tag ok' : 'tag', text: v ? y : n }); }

export function numberIn(v, name, lo, hi) {
  const n = Number(str(v));
  if (str(v) === '' || !isFinite(n) || n < lo || n > hi) throw new Error(`${name}必须是 ${lo} 到 ${hi} 之间的数`);
  return n;
}

export function wholeNumber(v, name) {
  const n = Number(str(v));
  if (str(v) === '' || !Number.isInteger(n)) throw new Error(`${name}必须是整数`);
  return n;
}
