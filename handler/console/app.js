// 市民城管通 staff console. Plain JavaScript, no build step, no third-party
// code. It talks only to the JSON API under /api/v1 with the staff's bearer
// token, kept in sessionStorage (gone when the tab closes). Everything the
// API returns is put on the page as text nodes or attribute values, never
// as HTML.
'use strict';

(function () {
  const SESSION_KEY = 'cgt.staff.session';
  const BRANCHES_KEY = 'cgt.staff.branches';
  const MAX_GRID_FILE = 16 << 20; // the server's limit for a GeoJSON upload

  const STATUS = {
    submitted: '待筛查', rejected: '已驳回', pending: '待派遣', dispatched: '已派遣',
    in_progress: '处置中', resolved: '待核查', closed: '已结案', merged: '已合并',
  };
  const OPEN = new Set(['submitted', 'pending', 'dispatched', 'in_progress']);
  const EVENTS = {
    reported: '居民上报', screened: '通过内容审核', held: '待人工审核', registered: '立案',
    rejected: '驳回', merged: '合并到已有工单', joined: '又有居民反映', queued: '进入人工派遣队列',
    dispatched: '派遣', accepted: '接单', claimed: '党员认领', returned: '退回',
    reassigned: '超时改派', escalated: '超期上报', resolved: '处置完成', reopened: '返工', closed: '结案',
  };
  const ROLES = { grid_worker: '网格员', party_member: '在职党员', staff: '工作人员', resident: '居民' };
  const KINDS = { volunteer: '志愿服务', theme: '主题实践', joint_enforcement: '联合执法' };
  const INDICATORS = [
    ['reported', '上报数'], ['registered', '立案数'], ['resolved', '结案数（已解决）'], ['closed', '关闭数'],
    ['on_time', '按期结案数'], ['overdue', '超期数'], ['reopened', '返工数'], ['rated', '评价数'],
    ['satisfied', '满意数'], ['resolution_rate', '结案率', 'rate'], ['on_time_rate', '按期结案率', 'rate'],
    ['reopen_rate', '返工率', 'rate'], ['satisfaction_rate', '满意率', 'rate'],
    ['mean_hours_to_resolve', '平均处置时长（小时）', 'hours'],
  ];
  const GROUP_COLUMNS = [
    ['reported', '上报'], ['registered', '立案'], ['resolved', '结案'], ['overdue', '超期'],
    ['reopened', '返工'], ['resolution_rate', '结案率', 'rate'], ['on_time_rate', '按期结案率', 'rate'],
    ['satisfaction_rate', '满意率', 'rate'], ['mean_hours_to_resolve', '平均时长', 'hours'],
  ];
  const GROUP_NAMES = { category: '类别', grid: '网格', community: '社区', worker: '处置人' };

  const state = {
    categories: new Map(), // code → category
    tickets: new Map(), // id → admin ticket, as listed
    filter: {},
    cursor: '',
    ticketSeq: 0,
    current: '',
    shown: new Set(), // tabs loaded once
    expiryTimer: 0,
  };

  // ---- DOM helpers -------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  // el builds an element; strings become text nodes, so API data is never
  // parsed as HTML.
  function el(tag, props, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') n.className = v;
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

  function td(...children) { return el('td', null, ...children); }

  function flash(message, isError) {
    const f = $('flash');
    f.textContent = message;
    f.className = isError ? 'flash error-flash' : 'flash';
    f.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { f.hidden = true; }, isError ? 8000 : 4000);
  }

  function errorText(e) {
    if (e instanceof ApiError) return e.message;
    console.error(e);
    return (e && e.message) || String(e);
  }

  function showError(box, e) {
    if (box) box.textContent = errorText(e);
    else flash(errorText(e), true);
  }

  // onSubmit runs fn for a form, disabling its buttons meanwhile and showing
  // any error in the form's [data-error] element.
  function onSubmit(form, fn) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const box = form.querySelector('[data-error]');
      if (box) box.textContent = '';
      const buttons = form.querySelectorAll('button');
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await fn(new FormData(form), form);
      } catch (e) {
        showError(box, e);
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  }

  // onClick runs an async fn for a button, reporting errors in the flash.
  function onClick(button, fn) {
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

  const str = (v) => (v === null || v === undefined ? '' : String(v)).trim();
  const list = (v) => str(v).split(/[\s,，、;；]+/).filter(Boolean);

  // ---- time --------------------------------------------------------------

  const timeFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false,
  });

  function fmtTime(s) {
    if (!s) return '—';
    const d = new Date(s);
    return isNaN(d) ? String(s) : timeFormat.format(d);
  }

  // todayCST is today's date in China Standard Time, as YYYY-MM-DD.
  function todayCST() {
    const parts = {};
    for (const p of new Intl.DateTimeFormat('en-US', {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    }).formatToParts(new Date())) parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day}`;
  }

  // cstTime turns a datetime-local value, read as Beijing time, into RFC 3339.
  function cstTime(v) {
    v = str(v);
    if (!v) return '';
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(v)) v += ':00';
    return v + '+08:00';
  }

  function fmtNumber(v, kind) {
    if (v === null || v === undefined) return '—';
    if (kind === 'rate') return (v * 100).toFixed(1) + '%';
    if (kind === 'hours') return Number(v).toFixed(1);
    return String(v);
  }

  // ---- API ---------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function session() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (s && s.token && Date.parse(s.expires_at) > Date.now()) return s;
    } catch (_) { /* a damaged entry is no session */ }
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }

  // api calls /api/v1 + path. It throws ApiError with the message of the
  // API's error envelope; a 401 ends the session (except for the login).
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = { Accept: 'application/json' };
    const s = opts.login ? null : session();
    if (s) headers.Authorization = 'Bearer ' + s.token;
    let body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers['Content-Type'] = opts.type;
      body = opts.body;
    }
    let url = '/api/v1' + path;
    if (opts.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v) q.set(k, v);
      if (q.toString()) url += '?' + q.toString();
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
    } catch (_) {
      throw new ApiError(0, 'network', '无法连接服务器，请检查网络后重试');
    }
    if (!res.ok) {
      let code = 'internal';
      let message = `请求失败（HTTP ${res.status}）`;
      try {
        const j = await res.json();
        if (j && j.error) {
          code = j.error.code || code;
          message = j.error.message || message;
        }
      } catch (_) { /* not the envelope: keep the status */ }
      if (res.status === 429 && res.headers.get('Retry-After')) {
        message += `（请 ${res.headers.get('Retry-After')} 秒后再试）`;
      }
      if (res.status === 401 && !opts.login) expire();
      throw new ApiError(res.status, code, message);
    }
    if (opts.raw) return res;
    if (res.status === 204) return null;
    return res.json();
  }

  const enc = encodeURIComponent;

  // photoURL makes a signed photo URL safe to use. Photos are served by this
  // same server under /media/photos/ (the signature does not cover the
  // host), so a URL built on another public base URL is fetched from here.
  function photoURL(u) {
    let p;
    try { p = new URL(u, location.href); } catch (_) { return ''; }
    if (p.protocol !== 'http:' && p.protocol !== 'https:') return '';
    if (p.origin !== location.origin && p.pathname.startsWith('/media/photos/')) return p.pathname + p.search;
    return p.href;
  }

  function photoStrip(photos) {
    const box = el('div', { class: 'photos' });
    for (const ph of photos || []) {
      const full = photoURL(ph.url);
      const thumb = photoURL(ph.thumbnail_url || ph.url);
      if (!full || !thumb) continue;
      box.append(el('a', { href: full, target: '_blank', rel: 'noopener noreferrer', title: '查看原图' },
        el('img', { src: thumb, alt: '照片', loading: 'lazy' })));
    }
    return box;
  }

  // ---- session -----------------------------------------------------------

  function showLogin(message) {
    $('app').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    if (message) $('login-form').querySelector('[data-error]').textContent = message;
    $('login-form').elements.username.focus();
  }

  function expire() {
    sessionStorage.removeItem(SESSION_KEY);
    clearTimeout(state.expiryTimer);
    showLogin('登录已失效，请重新登录。');
  }

  function logout() {
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(BRANCHES_KEY);
    // A fresh page leaves nothing of the last session in the DOM.
    location.replace(location.pathname);
  }

  async function enter() {
    const s = session();
    if (!s) return showLogin();
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = s.username ? `工作人员：${s.username}` : '工作人员';
    clearTimeout(state.expiryTimer);
    state.expiryTimer = setTimeout(expire, Math.min(Date.parse(s.expires_at) - Date.now(), 0x7fffffff));
    renderBranches();
    await Promise.all([loadCategories(), loadGrids()]).catch((e) => showError(null, e));
    if (!session()) return undefined;
    return route();
  }

  // ---- tabs --------------------------------------------------------------

  const TABS = ['tickets', 'grids', 'people', 'categories', 'activities', 'stats', 'dead-letters'];

  function route() {
    if (!session()) return;
    let tab = location.hash.replace(/^#/, '');
    if (!TABS.includes(tab)) tab = 'tickets';
    for (const t of TABS) $('tab-' + t).hidden = t !== tab;
    document.querySelectorAll('.tabs a').forEach((a) => {
      if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    const first = !state.shown.has(tab);
    state.shown.add(tab);
    const load = {
      tickets: () => first && searchTickets(),
      grids: () => !first && loadGrids(),
      categories: () => !first && loadCategories(),
      stats: () => first && loadStats(),
      'dead-letters': loadDeadLetters,
    }[tab];
    if (load) Promise.resolve(load()).catch((e) => showError(null, e));
  }

  // ---- 工单 ---------------------------------------------------------------

  function categoryName(code) {
    const c = state.categories.get(code);
    return c ? c.name : (code || '—');
  }

  function assigneeText(a) {
    if (!a || !a.id) return '未指派';
    return `${ROLES[a.role] || a.role || ''} ${a.id}`.trim();
  }

  function flags(t) {
    const out = [];
    if (t.overdue) out.push(['超期', 'bad']);
    if (t.escalated) out.push(['已上报', 'bad']);
    if (t.held) out.push(['待审核', 'warn']);
    if (t.queue === 'staff') out.push(['待人工派遣', 'warn']);
    if (t.pool) out.push(['党员可认领', '']);
    if (t.reporters > 1) out.push([`${t.reporters} 人反映`, '']);
    if (t.returns > 0) out.push([`退回 ${t.returns} 次`, '']);
    return out.map(([text, cls]) => el('span', { class: 'tag ' + cls, text }));
  }

  function statusTag(s) {
    return el('span', { class: 'status status-' + s, text: STATUS[s] || s });
  }

  function ticketRow(t) {
    const tr = el('tr', { class: 'clickable', tabindex: 0, 'data-id': t.id },
      td(fmtTime(t.created_at)), td(categoryName(t.category)), td(statusTag(t.status)),
      td(t.address || '—'), td(t.grid_id || '无网格'), td(assigneeText(t.assignee)), td(flags(t)));
    if (t.id === state.current) tr.classList.add('selected');
    return tr;
  }

  function replaceRow(t) {
    for (const tr of $('ticket-rows').children) {
      if (tr.dataset.id === t.id) { tr.replaceWith(ticketRow(t)); return; }
    }
  }

  function readTicketFilter() {
    const fd = new FormData($('ticket-filter'));
    return {
      status: str(fd.get('status')), grid: str(fd.get('grid')), category: str(fd.get('category')),
      from: str(fd.get('from')), to: str(fd.get('to')), queue: fd.get('queue') ? 'staff' : '',
    };
  }

  function searchTickets() {
    state.filter = readTicketFilter();
    state.cursor = '';
    state.tickets.clear();
    $('ticket-rows').replaceChildren();
    $('ticket-more').hidden = true;
    $('ticket-empty').hidden = true;
    return loadTickets();
  }

  async function loadTickets() {
    const seq = ++state.ticketSeq;
    const page = await api('GET', '/admin/tickets', { query: Object.assign({}, state.filter, { limit: '50', cursor: state.cursor }) });
    if (seq !== state.ticketSeq) return; // a newer search replaced this one
    for (const t of page.items || []) {
      if (state.tickets.has(t.id)) continue;
      state.tickets.set(t.id, t);
      $('ticket-rows').append(ticketRow(t));
    }
    state.cursor = page.next_cursor || '';
    $('ticket-more').hidden = !state.cursor;
    $('ticket-empty').hidden = state.tickets.size > 0;
  }

  function field(dl, label, value) {
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return;
    dl.append(el('dt', { text: label }), el('dd', null, value));
  }

  function renderTicket(t) {
    const dl = $('ticket-fields');
    dl.replaceChildren();
    field(dl, '编号', t.id);
    field(dl, '状态', statusTag(t.status));
    field(dl, '类别', `${categoryName(t.category)}（${t.category}）`);
    field(dl, '描述', t.description);
    field(dl, '地址', t.address);
    if (t.location) field(dl, '位置', `${t.location.lat}, ${t.location.lng}（${t.location.coord_type}）`);
    field(dl, '网格', t.grid_id || '无网格');
    field(dl, '处置人', assigneeText(t.assignee));
    field(dl, '处置时限', t.deadline ? fmtTime(t.deadline) : '');
    field(dl, '反映人数', t.reporters > 1 ? String(t.reporters) : '');
    field(dl, '合并到', t.duplicate_of);
    field(dl, '驳回理由', t.reject_reason);
    field(dl, '标记', flags(t));
    field(dl, '上报时间', fmtTime(t.created_at));
    field(dl, '更新时间', fmtTime(t.updated_at));

    $('ticket-photos').replaceChildren(
      el('h3', { text: '现场照片' }),
      (t.photos || []).length ? photoStrip(t.photos) : el('p', { class: 'muted', text: '无照片' }));

    const res = $('ticket-resolution');
    res.replaceChildren();
    if (t.resolution) {
      const rdl = el('dl', { class: 'fields' });
      field(rdl, '处置说明', t.resolution.note);
      field(rdl, '完成时间', fmtTime(t.resolution.resolved_at));
      res.append(el('h3', { text: '处置结果' }), rdl, photoStrip(t.resolution.photos));
    }
    if (t.feedback) {
      const fdl = el('dl', { class: 'fields' });
      field(fdl, '是否满意', t.feedback.satisfied ? '满意' : '不满意');
      field(fdl, '评分', `${t.feedback.rating} / 5`);
      field(fdl, '留言', t.feedback.comment);
      res.append(el('h3', { text: '居民评价' }), fdl);
    }

    const tl = $('ticket-timeline');
    tl.replaceChildren();
    for (const ev of t.timeline || []) {
      const who = ev.actor ? `${ROLES[ev.actor.role] || ev.actor.role}${ev.actor.name ? ' ' + ev.actor.name : ''}` : '';
      tl.append(el('li', null,
        el('time', { datetime: ev.at, text: fmtTime(ev.at) }), ' ',
        el('strong', { text: EVENTS[ev.type] || ev.type }), ' ',
        ev.status ? statusTag(ev.status) : null,
        who ? el('span', { class: 'muted', text: ' · ' + who }) : null,
        ev.note ? el('div', { class: 'note', text: ev.note }) : null));
    }
    if (!tl.children.length) tl.append(el('li', { class: 'muted', text: '暂无记录' }));

    $('ticket-actions').hidden = !OPEN.has(t.status);
    for (const f of [$('dispatch-form'), $('reject-form')]) f.querySelector('[data-error]').textContent = '';
    for (const tr of $('ticket-rows').children) tr.classList.toggle('selected', tr.dataset.id === t.id);
  }

  async function openTicket(id) {
    const t = state.tickets.get(id);
    if (!t) return;
    state.current = id;
    renderTicket(t);
    $('ticket-detail').hidden = false;
    $('ticket-detail').scrollIntoView({ block: 'nearest' });
    // The list may be minutes old: read the ticket again for its latest
    // timeline and fresh photo links (staff may read any report).
    try {
      const fresh = await api('GET', '/reports/' + enc(id));
      if (state.current !== id) return;
      const merged = Object.assign({}, state.tickets.get(id), fresh);
      state.tickets.set(id, merged);
      renderTicket(merged);
      replaceRow(merged);
    } catch (e) {
      if (e.status !== 401) flash('刷新工单失败：' + errorText(e), true);
    }
  }

  function updated(t) {
    state.tickets.set(t.id, t);
    replaceRow(t);
    if (state.current === t.id) renderTicket(t);
  }

  // ---- 网格 ---------------------------------------------------------------

  async function loadGrids() {
    const page = await api('GET', '/admin/grids');
    const items = page.items || [];
    $('grid-rows').replaceChildren(...items.map((g) => el('tr', null, td(g.code), td(g.name), td(g.community))));
    $('grid-empty').hidden = items.length > 0;
    $('grid-codes').replaceChildren(...items.map((g) => el('option', { value: g.code, label: `${g.name}（${g.community}）` })));
    const communities = [...new Set(items.map((g) => g.community).filter(Boolean))].sort();
    $('communities').replaceChildren(...communities.map((c) => el('option', { value: c })));
  }

  // ---- 人员 ---------------------------------------------------------------

  function showInvite(kind, name, res) {
    const dl = $('invite-fields');
    dl.replaceChildren();
    field(dl, '身份', kind);
    field(dl, '姓名', name);
    field(dl, '档案 ID', res.id);
    field(dl, '邀请码', el('code', { class: 'invite-code', text: res.invite_code }));
    field(dl, '有效期至', res.invite_expires_at ? fmtTime(res.invite_expires_at) : '');
    $('invite').hidden = false;
    $('invite').scrollIntoView({ block: 'nearest' });
  }

  function savedBranches() {
    try { return JSON.parse(sessionStorage.getItem(BRANCHES_KEY) || '[]'); } catch (_) { return []; }
  }

  function renderBranches() {
    const bs = savedBranches();
    $('branch-list').replaceChildren(...bs.map((b) => el('li', null, el('code', { text: b.id }), ' ', b.name)));
    $('branch-ids').replaceChildren(...bs.map((b) => el('option', { value: b.id, label: b.name })));
  }

  // ---- 分类 ---------------------------------------------------------------

  async function loadCategories() {
    const page = await api('GET', '/categories');
    const items = (page.items || []).slice().sort((a, b) => (a.code < b.code ? -1 : 1));
    state.categories = new Map(items.map((c) => [c.code, c]));
    $('category-rows').replaceChildren(...items.map((c) => el('tr', null,
      td(c.code), td(c.major || '—'), td(c.name), td(String(c.sla_hours)),
      td(c.volunteer_suitable ? '是' : '否'), td(c.duplicate_radius_m === undefined ? '—' : String(c.duplicate_radius_m)),
      td(el('button', { type: 'button', class: 'link', text: '编辑', onclick: () => editCategory(c) })))));
    const sel = $('f-category');
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '', text: '全部' }),
      ...items.map((c) => el('option', { value: c.code, text: `${c.code} ${c.name}` })));
    sel.value = keep;
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

  function wholeNumber(v, name) {
    const n = Number(str(v));
    if (str(v) === '' || !Number.isInteger(n)) throw new Error(`${name}必须是整数`);
    return n;
  }

  // ---- 统计 ---------------------------------------------------------------

  function statsPeriod() {
    const fd = new FormData($('stats-form'));
    return { from: str(fd.get('from')), to: str(fd.get('to')), group_by: str(fd.get('group_by')) };
  }

  async function loadStats() {
    const p = statsPeriod();
    const [sum, party] = await Promise.all([
      api('GET', '/stats/summary', { query: p }),
      api('GET', '/stats/party-building', { query: { from: p.from, to: p.to } }),
    ]);
    $('stats-period').textContent = `${sum.from || p.from} 至 ${sum.to || p.to}`;
    $('stats-summary').replaceChildren(...INDICATORS.map(([k, label, kind]) =>
      el('tr', null, el('th', { scope: 'row', text: label }), td(fmtNumber(sum[k], kind)))));

    const groups = sum.groups || [];
    $('stats-groups-box').hidden = !p.group_by;
    $('stats-groups-head').replaceChildren(el('tr', null,
      el('th', { text: GROUP_NAMES[p.group_by] || '分组' }), el('th', { text: '编码' }),
      ...GROUP_COLUMNS.map(([, label]) => el('th', { text: label }))));
    $('stats-groups').replaceChildren(...(groups.length ? groups.map((g) => el('tr', null,
      td(g.name || g.key || '—'), td(g.key || '—'), ...GROUP_COLUMNS.map(([k, , kind]) => td(fmtNumber(g[k], kind)))))
      : [el('tr', null, el('td', { colspan: GROUP_COLUMNS.length + 2, class: 'muted', text: '本期没有数据' }))]));

    const rows = [
      ['党员参与解决问题数', party.resolved_with_party_members], ['党员参与人次', party.participations],
      ['参与党员人数', party.distinct_members], ['活动次数', party.activities],
      ...Object.entries(party.activities_by_kind || {}).map(([k, v]) => [`　其中${KINDS[k] || k}`, v]),
      ['活动参与人次', party.activity_participations],
    ];
    $('party-summary').replaceChildren(...rows.map(([label, v]) =>
      el('tr', null, el('th', { scope: 'row', text: label }), td(fmtNumber(v)))));
    const empty = (n) => [el('tr', null, el('td', { colspan: n, class: 'muted', text: '本期没有数据' }))];
    const branches = party.branches || [];
    $('party-branches').replaceChildren(...(branches.length ? branches.map((b) => el('tr', null,
      td(b.name || b.branch_id), td(String(b.participations)), td(String(b.distinct_members)), td(String(b.resolved))))
      : empty(4)));
    const members = party.members || [];
    $('party-members').replaceChildren(...(members.length ? members.map((m) => el('tr', null,
      td(m.name || m.member_id), td(m.branch || '—'), td(String(m.participations)), td(String(m.resolved))))
      : empty(4)));
  }

  // filenameOf reads the file name of a Content-Disposition header,
  // preferring the RFC 5987 filename* form.
  function filenameOf(cd) {
    const star = /filename\*=UTF-8''([^;]+)/i.exec(cd || '');
    if (star) {
      try { return decodeURIComponent(star[1].trim()); } catch (_) { /* fall through */ }
    }
    const plain = /filename="([^"]+)"/i.exec(cd || '');
    return plain ? plain[1] : '';
  }

  async function exportStats() {
    const p = statsPeriod();
    const res = await api('GET', '/stats/export.xlsx', { query: { from: p.from, to: p.to }, raw: true });
    const blob = await res.blob();
    const name = filenameOf(res.headers.get('Content-Disposition')) || `城管统计_${p.from}_${p.to}.xlsx`;
    const href = URL.createObjectURL(blob);
    const a = el('a', { href, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 30000);
  }

  // ---- 死信 ---------------------------------------------------------------

  async function loadDeadLetters() {
    const page = await api('GET', '/admin/dead-letters');
    const items = page.items || [];
    $('dead-rows').replaceChildren(...items.map((d) => el('tr', null,
      td(fmtTime(d.at)), td(d.queue), td(d.reason),
      td(el('details', null, el('summary', { text: '查看' }), el('pre', { class: 'payload', text: d.payload }))))));
    $('dead-empty').hidden = items.length > 0;
  }

  // ---- wiring ------------------------------------------------------------

  function wire() {
    onSubmit($('login-form'), async (fd, form) => {
      const username = str(fd.get('username'));
      const s = await api('POST', '/auth/staff', { json: { username, password: fd.get('password') || '' }, login: true });
      if (!s.user || !(s.user.roles || []).includes('staff')) throw new Error('该账号不是工作人员账号。');
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({
        token: s.token, expires_at: s.expires_at, username: s.user.username || username,
      }));
      form.reset();
      await enter();
    });
    $('logout').addEventListener('click', logout);
    window.addEventListener('hashchange', route);

    // 工单
    const statusSel = $('f-status');
    for (const [k, v] of Object.entries(STATUS)) statusSel.append(el('option', { value: k, text: v }));
    onSubmit($('ticket-filter'), () => searchTickets());
    $('ticket-filter').addEventListener('reset', () => setTimeout(() => searchTickets().catch((e) => showError(null, e))));
    onClick($('ticket-more'), loadTickets);
    const rows = $('ticket-rows');
    rows.addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-id]');
      if (tr) openTicket(tr.dataset.id);
    });
    rows.addEventListener('keydown', (ev) => {
      const tr = ev.target.closest('tr[data-id]');
      if (tr && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); openTicket(tr.dataset.id); }
    });
    $('ticket-close').addEventListener('click', () => {
      state.current = '';
      $('ticket-detail').hidden = true;
      for (const tr of rows.children) tr.classList.remove('selected');
    });
    onSubmit($('dispatch-form'), async (fd, form) => {
      const id = state.current;
      const t = await api('POST', `/admin/tickets/${enc(id)}/dispatch`, { json: { assignee_id: str(fd.get('assignee_id')) } });
      updated(t);
      form.reset();
      flash('已派遣。');
    });
    onSubmit($('reject-form'), async (fd, form) => {
      const id = state.current;
      const reason = str(fd.get('reason'));
      if (!window.confirm(`确定驳回这张工单？居民会看到理由：${reason}`)) return;
      const t = await api('POST', `/admin/tickets/${enc(id)}/reject`, { json: { reason } });
      updated(t);
      form.reset();
      flash('已驳回。');
    });

    // 网格
    onSubmit($('grid-upload'), async (fd, form) => {
      const file = fd.get('file');
      if (!file || !file.size) throw new Error('请选择一个 GeoJSON 文件。');
      if (file.size > MAX_GRID_FILE) throw new Error('文件超过 16 MiB。');
      const text = await file.text();
      try { JSON.parse(text); } catch (_) { throw new Error('文件不是有效的 JSON。'); }
      const res = await api('POST', '/admin/grids', { body: text, type: 'application/json' });
      form.reset();
      flash(`已导入 ${(res.items || []).length} 个网格。`);
      await loadGrids();
    });
    onClick($('grid-refresh'), loadGrids);

    // 人员
    onSubmit($('worker-form'), async (fd, form) => {
      const name = str(fd.get('name'));
      const res = await api('POST', '/admin/workers', {
        json: { name, phone: str(fd.get('phone')), grid_codes: list(fd.get('grid_codes')) },
      });
      form.reset();
      showInvite('网格员', name, res);
    });
    onSubmit($('branch-form'), async (fd, form) => {
      const name = str(fd.get('name'));
      const res = await api('POST', '/admin/branches', { json: { name } });
      form.reset();
      const bs = savedBranches().filter((b) => b.id !== res.id);
      bs.push({ id: res.id, name });
      sessionStorage.setItem(BRANCHES_KEY, JSON.stringify(bs));
      renderBranches();
      $('member-form').elements.branch_id.value = res.id;
      flash(`党支部已创建，ID：${res.id}`);
    });
    onSubmit($('member-form'), async (fd, form) => {
      const name = str(fd.get('name'));
      const res = await api('POST', '/admin/party-members', {
        json: {
          name, phone: str(fd.get('phone')), branch_id: str(fd.get('branch_id')),
          communities: list(fd.get('communities')),
        },
      });
      form.reset();
      showInvite('在职党员', name, res);
    });
    $('invite-close').addEventListener('click', () => {
      $('invite-fields').replaceChildren();
      $('invite').hidden = true;
    });

    // 分类
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

    // 活动
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

    // 统计
    const sf = $('stats-form').elements;
    const today = todayCST();
    sf.to.value = today;
    sf.from.value = today.slice(0, 4) + '-01-01';
    onSubmit($('stats-form'), loadStats);
    onClick($('stats-export'), exportStats);

    // 死信
    onClick($('dead-refresh'), loadDeadLetters);
  }

  function boot() {
    wire();
    if (session()) enter().catch((e) => showError(null, e));
    else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
}());
