// 分类: the catalogue of problems, with each one's time limit.
import { $, el, td, str, flash, onSubmit, onClick, wholeNumber } from '../lib/dom.js';
import { api, enc } from '../lib/api.js';
import { state } from '../lib/state.js';

export async function loadCategories() {
  const page = await api('GET', '/categories');
  const items = (page.items || []).slice().sort((a, b) => (a.code < b.code ? -1 : 1));
  state.categories = new Map(items.map((c) => [c.code, c]));
  $('category-rows').replaceChildren(...items.map((c) => el('tr', null,
    td(c.code), td(c.major || '—'), td(c.name), td(String(c.sla_hours)),
    td(c.volunteer_suitable ? '是' : '否'), td(c.duplicate_radius_m === undefined ? '—' : String(c.duplicate_radius_m)),
    td(el('button', { type: 'button', class: 'link', 'data-can': 'admin', text: '编辑', onclick: () => editCategory(c) })))));
  for (const id of ['f-category', 'h-category']) {
    const sel = $(id);
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '', text: id === 'f-category' ? '全部' : '请选择' }),
      ...items.map((c) => el('option', { value: c.code, text: `${c.code} ${c.name}` })));
    sel.value = keep;
  }
}

function editCategory(c) {
  const f = $('category-form').elements;
  f.code.value = c.code;
  f.major.value = c.major || '';
  f.name.value = c.name;
  f.sla_hours.value = c.sla_hours;
  f.duplicate_radius_m.value = c.duplicate_radius_m === undefined ? 50 : c.duplicate_radius_m;
  f.volunteer_suitable.checked = !!c.volunteer_suitable;
  $('category-form').scrollIntoView({ block: 'nearest' });
  f.name.focus();
}

export function wire() {
  onSubmit($('category-form'), async (fd, form) => {
    const code = str(fd.get('code'));
    if (!/^[0-9]{4}$/.test(code)) throw new Error('编码必须是四位数字。');
    const c = await api('PUT', '/admin/categories/' + enc(code), {
      json: {
        name: str(fd.get('name')), major: str(fd.get('major')),
        sla_hours: wholeNumber(fd.get('sla_hours'), '处置时限'),
        volunteer_suitable: !!fd.get('volunteer_suitable'),
        duplicate_radius_m: str(fd.get('duplicate_radius_m')) === '' ? 50 : wholeNumber(fd.get('duplicate_radius_m'), '合并半径'),
      },
    });
    form.reset();
    flash(`分类 ${c.code} ${c.name} 已保存。`);
    await loadCategories();
  });
  onClick($('category-refresh'), loadCategories);
}

export function show(args, query, first) { return !first && loadCategories(); }
