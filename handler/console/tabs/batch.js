// Batch steps on the tickets ticked in 工单: 督办 with one note, 派遣 to one
// person chosen by name, 导出 of just those (a CSV file). Each step on a
// ticket is one call; what did not go through is listed by case number.
import { $, el, str, flash, onSubmit } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { can } from '../lib/roles.js';
import { label } from '../lib/labels.js';
import { suggest } from '../lib/suggest.js';
import { categoryName, gridName, ref } from '../lib/state.js';
import { todayCST, fmtTime } from '../lib/format.js';
import { STEPS } from './ticket.js';

// selected are the ids ticked.
export const selected = new Set();
let hooks = { list: null, updated: () => {}, rowOf: () => null };
let person = null; // the person chosen for 派遣: {id, name, role, on_duty}

export function clear() {
  selected.clear();
  draw();
}

function draw() {
  const n = selected.size;
  $('batch-bar').hidden = n === 0;
  $('batch-count').textContent = `已选 ${n} 件`;
  for (const box of $('ticket-rows').querySelectorAll('input[data-pick]')) box.checked = selected.has(box.dataset.pick);
  const all = $('ticket-all');
  const boxes = $('ticket-rows').querySelectorAll('input[data-pick]');
  all.checked = boxes.length > 0 && n >= boxes.length && [...boxes].every((b) => b.checked);
  all.indeterminate = n > 0 && !all.checked;
  if (n === 0) {
    $('batch-urge-form').hidden = true;
    $('batch-dispatch-form').hidden = true;
  }
}

// run takes one step on every ticket ticked, a few at a time, and lists
// what did not go through.
async function run(what, step) {
  const ids = [...selected];
  const out = $('batch-result');
  out.replaceChildren();
  const failed = [];
  let done = 0;
  const queue = ids.slice();
  const worker = async () => {
    while (queue.length) {
      const id = queue.shift();
      const t = hooks.list.tickets.get(id) || { id };
      try {
        const res = await step(id);
        if (res && res.id) hooks.updated(res, 'changed');
        done++;
      } catch (e) {
        failed.push([ref(t), e.message]);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  flash(`${what} ${done} 件` + (failed.length ? `，${failed.length} 件未能${what}` : '') + '。', failed.length > 0);
  out.replaceChildren(...failed.map(([r, msg]) => el('li', { class: 'error' }, el('strong', { text: r }), '：' + msg)));
  return failed.length === 0;
}

function personOption(x, role) {
  const where = role === 'grid_worker' ? (x.grid_codes || []).map(gridName).join('、') : (x.communities || []).join('、');
  return {
    value: x.id, label: x.name,
    hint: `${label('role', role)} · ${where || '—'} · ${x.on_duty ? '在岗' : '不在岗'} · 在办 ${x.open_tasks === undefined ? '—' : x.open_tasks}`,
    p: { id: x.id, name: x.name, role, on_duty: !!x.on_duty },
  };
}

export function wire(h) {
  hooks = h;
  const rows = $('ticket-rows');
  rows.addEventListener('change', (ev) => {
    const box = ev.target.closest('input[data-pick]');
    if (!box) return;
    if (box.checked) selected.add(box.dataset.pick);
    else selected.delete(box.dataset.pick);
    draw();
  });
  $('ticket-all').addEventListener('change', (ev) => {
    for (const box of rows.querySelectorAll('input[data-pick]')) {
      if (ev.target.checked) selected.add(box.dataset.pick);
      else selected.delete(box.dataset.pick);
    }
    draw();
  });
  $('batch-clear').addEventListener('click', clear);
  $('batch-urge-open').addEventListener('click', () => {
    $('batch-dispatch-form').hidden = true;
    $('batch-urge-form').hidden = false;
    $('batch-urge-form').elements.note.focus();
  });
  $('batch-dispatch-open').addEventListener('click', () => {
    $('batch-urge-form').hidden = true;
    $('batch-dispatch-form').hidden = false;
    $('batch-person').focus();
  });
  onSubmit($('batch-urge-form'), async (fd, form) => {
    const note = str(fd.get('note'));
    if (await run('督办', (id) => STEPS.urge(id, { note }))) {
      form.reset();
      form.hidden = true;
    }
  });
  suggest($('batch-person'), {
    min: 1,
    empty: '没有这个姓名的网格员或在职党员',
    source: async (q) => {
      // The people directory is the admins'; a dispatcher finds the person
      // among those who can take the first ticket ticked (everyone active,
      // that ticket's own grid first).
      if (!can('admin')) {
        const first = [...selected][0];
        if (!first) return [];
        const page = await api('GET', `/admin/tickets/${enc(first)}/candidates`);
        return (page.items || []).filter((x) => (x.name || '').includes(q)).slice(0, 20).map((x) => personOption(x, x.role));
      }
      const [w, m] = await Promise.all([
        api('GET', '/admin/workers', { query: { q, active: 'true', limit: '10' } }),
        api('GET', '/admin/party-members', { query: { q, active: 'true', limit: '10' } }),
      ]);
      return [...(w.items || []).map((x) => personOption(x, 'grid_worker')), ...(m.items || []).map((x) => personOption(x, 'party_member'))];
    },
    onPick: (it) => {
      person = it.p;
      $('batch-person').value = it.p.name;
      const b = $('batch-dispatch-form').querySelector('button[type=submit]');
      b.textContent = it.p.on_duty ? `派给${it.p.name}` : `${it.p.name}不在岗，仍派遣`;
      b.classList.toggle('danger', !it.p.on_duty);
    },
  });
  $('batch-person').addEventListener('input', () => {
    person = null;
    const b = $('batch-dispatch-form').querySelector('button[type=submit]');
    b.textContent = '派遣所选工单';
    b.classList.remove('danger');
  });
  onSubmit($('batch-dispatch-form'), async (fd, form) => {
    if (!person) throw new Error('请输入姓名并从列表中选择处置人。');
    const p = person;
    // The button said so of someone off duty: that is the confirmation.
    const body = p.on_duty ? { assignee_id: p.id } : { assignee_id: p.id, confirm_off_duty: true };
    if (await run('派遣', (id) => STEPS.dispatch(id, body))) {
      form.reset();
      form.hidden = true;
      person = null;
    }
  });
  $('batch-export').addEventListener('click', exportSelected);
}

// cell is one CSV field: quoted, and a text that a spreadsheet would take
// for a formula (= + - @, a tab or a return first) is kept text by a
// leading apostrophe, as the server's own exports do.
function cell(v) {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return '"' + s.replace(/"/g, '""') + '"';
}

// exportSelected saves the tickets ticked as a CSV file for Excel (UTF-8
// with a byte order mark), from what the list already shows: the server's
// export takes a filter, not a choice of tickets.
function exportSelected() {
  const rows = [...selected].map((id) => hooks.list.tickets.get(id)).filter(Boolean);
  const head = ['案件编号', '上报时间', '类别', '状态', '来源', '地址', '网格', '处置人', '处置时限', '问题描述'];
  const lines = [head, ...rows.map((t) => [
    ref(t), fmtTime(t.created_at), categoryName(t.category), label('status', t.status), label('source', t.source),
    t.address, t.grid_id ? gridName(t.grid_id) : '', t.assignee && t.assignee.id ? t.assignee.name : '', t.due_at ? fmtTime(t.due_at) : '',
    t.description])].map((r) => r.map(cell).join(','));
  const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
  const href = URL.createObjectURL(blob);
  const name = `所选工单_${todayCST()}.csv`;
  const a = el('a', { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 30000);
  flash(`已导出所选 ${rows.length} 件：${name}`);
}

// redraw ticks the rows again after the list changed under the selection.
export function redraw() { draw(); }
