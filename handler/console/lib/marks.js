// A ticket's marks, as tags beside its status in the list and the detail.
import { el } from './dom.js';
import { label } from './labels.js';

// flags are a ticket's marks beside its status: the server's words for
// its flags (待审核, 超期在办, 超期结案, 已升级 …), then the console's counts.
export function flags(t) {
  const out = [];
  const mark = (key, cls) => out.push([label('flag', key), cls]);
  if (t.held) mark('held', 'warn');
  if (t.overdue) mark('overdue', 'bad');
  else if (t.late) mark('late', 'bad');
  else if (t.escalated) mark('escalated', 'bad');
  if (t.queue === 'staff') out.push(['待人工派遣', 'warn']);
  if (t.extension && t.extension.status === 'requested') out.push(['申请延期', 'warn']);
  if (t.pool) mark('pool', '');
  if (t.self_handled) mark('self_handled', '');
  if ((t.photo_flags || []).length) mark('photo_flags', 'warn');
  if (t.reporters > 1) out.push([`${t.reporters} 人反映`, '']);
  if (t.returns > 0) out.push([`退回 ${t.returns} 次`, '']);
  if (t.urges > 0) out.push([`督办 ${t.urges} 次`, '']);
  return out.map(([text, cls]) => el('span', { class: 'tag ' + cls, text }));
}
