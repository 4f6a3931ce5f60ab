// 活动: party members' activities.
import { $, str, onSubmit } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { cstTime } from '../lib/format.js';

export function wire() {
  onSubmit($('activity-form'), async (fd, form) => {
    const title = str(fd.get('title'));
    const res = await api('POST', '/admin/activities', {
      json: {
        title, kind: str(fd.get('kind')), community: str(fd.get('community')),
        starts_at: cstTime(fd.get('starts_at')), ends_at: cstTime(fd.get('ends_at')),
      },
    });
    form.reset();
    form.querySelector('[data-result]').textContent = `活动“${title}”已发布，活动 ID：${res.id}（党员签到用）`;
  });
}

export function show() {}
