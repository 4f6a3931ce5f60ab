// 市民城管通 staff console. Plain JavaScript, no build step, no third-party
// code, nothing fetched from outside this server. It talks only to the JSON
// API under /api/v1 with the staff's bearer token, kept in sessionStorage
// (gone when the tab closes). Everything the API returns is put on the page
// as text nodes or attribute values, never as HTML; the charts and the map
// are SVG built element by element.
'use strict';

(function () {
  const SESSION_KEY = 'cgt.staff.session';
  const MAX_GRID_FILE = 16 << 20; // the server's limit for a GeoJSON upload
  const SVGNS = 'http://www.w3.org/2000/svg';

  const STATUS = {
    submitted: '待筛查', rejected: '已驳回', pending: '待派遣', dispatched: '已派遣',
    in_progress: '处置中', deferred: '已挂账', resolved: '已处置', closed: '已结案', merged: '已合并',
  };
  // The statuses of a ticket still being handled (在办), drawn on the map.
  const OPEN = ['submitted', 'pending', 'dispatched', 'in_progress', 'deferred'];
  const EVENTS = {
    reported: '居民上报', screened: '通过内容审核', held: '待人工审核', registered: '立案',
    rejected: '驳回', merged: '合并到已有工单', joined: '又有居民反映', queued: '进入人工派遣队列',
    dispatched: '派遣', accepted: '接单', claimed: '党员认领', returned: '退回',
    reassigned: '超时改派', escalated: '超期上报', resolved: '处置完成', reopened: '返工', closed: '结案',
    extension_requested: '申请延期', extension_approved: '批准延期', extension_denied: '不批准延期',
    extended: '延期', deferred: '挂账', resumed: '恢复办理', urged: '督办', verified: '核查通过',
    verify_failed: '核查不通过', self_handled: '自行处置', hotline: '热线受理',
  };
  const ROLES = { grid_worker: '网格员', party_member: '在职党员', staff: '工作人员', resident: '居民', system: '系统' };
  const SOURCES = { wechat: '小程序', patrol: '巡查', hotline: '12345 热线', open311: 'Open311' };
  const KINDS = { volunteer: '志愿服务', theme: '主题实践', joint_enforcement: '联合执法' };
  const INDICATORS = [
    ['reported', '上报数'], ['registered', '立案数'], ['resolved', '解决数'], ['closed', '结案数'],
    ['on_time', '按期结案数'], ['overdue', '超期数'], ['reopened', '返工数'], ['rated', '评价数'],
    ['satisfied', '满意数'], ['dispatched', '派遣次数'], ['returned', '退回次数'], ['extended', '延期次数'],
    ['deferred', '挂账次数'], ['urged', '督办次数'], ['verify_failed', '核查不通过次数'], ['self_handled', '自处置数'],
    ['open_overdue', '超期未结数'], ['photo_flagged', '处置照片待核查数'],
    ['resolution_rate', '结案率', 'rate'], ['on_time_rate', '按期结案率', 'rate'],
    ['reopen_rate', '返工率', 'rate'], ['satisfaction_rate', '满意率', 'rate'],
    ['valid_report_rate', '有效上报率', 'rate'], ['dispatch_accuracy', '派遣准确率', 'rate'],
    ['mean_hours_to_resolve', '平均处置时长（小时）', 'hours'],
  ];
  const GROUP_COLUMNS = [
    ['reported', '上报'], ['registered', '立案'], ['closed', '结案'], ['overdue', '超期'],
    ['reopened', '返工'], ['resolution_rate', '结案率', 'rate'], ['on_time_rate', '按期结案率', 'rate'],
    ['satisfaction_rate', '满意率', 'rate'], ['mean_hours_to_resolve', '平均时长', 'hours'],
  ];
  const GROUP_NAMES = { category: '类别', grid: '网格', community: '社区', worker: '处置人', source: '来源', day: '日期', month: '月份' };
  // The overview's figures, in the order of its table's columns.
  const FIGURES = [
    ['reported'], ['registered'], ['closed'], ['resolution_rate', 'rate'], ['on_time_rate', 'rate'],
    ['reopen_rate', 'rate'], ['satisfaction_rate', 'rate'], ['open_overdue'],
  ];
  // figureOf reads one overview figure; 超期在办 is open_overdue (past the
  // deadline while still open), or overdue from a server without it.
  const figureOf = (s, k) => (k === 'open_overdue' && s[k] === undefined ? s.overdue : s[k]);
  const TABS = ['overview', 'map', 'tickets', 'people', 'grids', 'categories', 'activities', 'stats', 'dead-letters'];

  const state = {
    categories: new Map(), // code → category
    grids: [], // as listed, with geometry
    branches: [],
    tickets: new Map(), // id → ticket, as listed or read
    listed: new Set(), // ids of the rows of the ticket list
    filter: {},
    cursor: '',
    ticketSeq: 0,
    current: '',
    tab: '',
    shown: new Set(), // tabs loaded once
    expiryTimer: 0,
    people: { kind: 'workers', query: {}, cursor: '', rows: new Map(), seq: 0 },
  };

  // ---- DOM helpers -------------------------------------------------------

  const $ = (id) => document.getElementById(id);

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
  function el(tag, props, ...children) { return fill(document.createElement(tag), props, children); }

  // svg builds an SVG element the same way.
  function svg(tag, props, ...children) { return fill(document.createElementNS(SVGNS, tag), props, children); }

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
  // any error in the form's [data-error] element. fn gets the button that
  // submitted the form, for forms with two answers (批准 / 不批准).
  function onSubmit(form, fn) {
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

  // confirmClick asks on the page itself (no browser dialog): the first
  // click arms the button with the question, a second one within five
  // seconds does it.
  function confirmClick(button, question, fn) {
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

  const str = (v) => (v === null || v === undefined ? '' : String(v)).trim();
  const list = (v) => str(v).split(/[\s,，、;；]+/).filter(Boolean);

  // ---- time --------------------------------------------------------------

  const timeFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false,
  });
  const clockFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  });

  const shortFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  });

  // fmtShort is a time without the year, for lists.
  function fmtShort(s) {
    if (!s) return '—';
    const d = new Date(s);
    return isNaN(d) ? String(s) : shortFormat.format(d);
  }

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

  // addDays moves a YYYY-MM-DD date by n calendar days.
  function addDays(day, n) {
    const d = new Date(day + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // cstTime turns a datetime-local value, read as Beijing time, into RFC 3339.
  function cstTime(v) {
    v = str(v);
    if (!v) return '';
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(v)) v += ':00';
    return v + '+08:00';
  }

  // timeLeft says how long until a deadline, or how long past it.
  function timeLeft(due) {
    const ms = Date.parse(due) - Date.now();
    if (isNaN(ms)) return '';
    const h = Math.abs(ms) / 3600000;
    const span = h >= 48 ? `${Math.floor(h / 24)} 天` : h >= 1 ? `${Math.floor(h)} 小时` : `${Math.max(1, Math.floor(h * 60))} 分钟`;
    return ms < 0 ? `已超期 ${span}` : `剩 ${span}`;
  }

  function fmtNumber(v, kind) {
    if (v === null || v === undefined || (typeof v === 'number' && isNaN(v))) return '—';
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

  // download saves a response (an Excel export) under the server's name.
  async function download(res, fallback) {
    const blob = await res.blob();
    const name = filenameOf(res.headers.get('Content-Disposition')) || fallback;
    const href = URL.createObjectURL(blob);
    const a = el('a', { href, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 30000);
    flash(`已下载 ${name}`);
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
        el('img', { src: thumb, alt: '现场照片', loading: 'lazy' })));
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
    await Promise.all([loadCategories(), loadGrids()]).catch((e) => showError(null, e));
    if (!session()) return undefined;
    return route();
  }

  // ---- tabs --------------------------------------------------------------

  function route() {
    if (!session()) return;
    const [name, arg] = location.hash.replace(/^#/, '').split('/');
    const tab = TABS.includes(name) ? name : 'overview';
    state.tab = tab;
    for (const t of TABS) $('tab-' + t).hidden = t !== tab;
    document.querySelectorAll('.tabs a').forEach((a) => {
      if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    const first = !state.shown.has(tab);
    state.shown.add(tab);
    const load = {
      overview: loadOverview,
      map: () => first && loadMap(),
      tickets: () => Promise.all([first && searchTickets(), arg && openTicket(decodeURIComponent(arg))]),
      people: () => first && Promise.all([loadBranches(), searchPeople()]),
      grids: () => !first && loadGrids(),
      categories: () => !first && loadCategories(),
      stats: () => first && loadStats(),
      'dead-letters': loadDeadLetters,
    }[tab];
    if (load) Promise.resolve(load()).catch((e) => showError(null, e));
  }

  function categoryName(code) {
    const c = state.categories.get(code);
    return c ? c.name : (code || '—');
  }

  function gridName(code) {
    const g = state.grids.find((x) => x.code === code);
    return g ? g.name : (code || '无网格');
  }

  function statusTag(s) {
    return el('span', { class: 'status status-' + s, text: STATUS[s] || s });
  }

  // ---- 概览 ---------------------------------------------------------------

  // loadOverview reads today's, this month's and this year's summaries,
  // the last 30 days by day and this month's party-building figures. The
  // top categories are the groups of this month's call, so the figures and
  // the chart cannot disagree.
  async function loadOverview() {
    const today = todayCST();
    const month = today.slice(0, 7) + '-01';
    const year = today.slice(0, 4) + '-01-01';
    const from30 = addDays(today, -29);
    const soft = (p) => p.catch((e) => e);
    const [day, mon, yr, trend, party] = await Promise.all([
      api('GET', '/stats/summary', { query: { from: today, to: today } }),
      api('GET', '/stats/summary', { query: { from: month, to: today, group_by: 'category' } }),
      api('GET', '/stats/summary', { query: { from: year, to: today } }),
      soft(api('GET', '/stats/summary', { query: { from: from30, to: today, group_by: 'day' } })),
      soft(api('GET', '/stats/party-building', { query: { from: month, to: today } })),
    ]);
    $('ov-error').textContent = '';
    $('ov-figures').replaceChildren(...[['today', '今日', day], ['month', '本月', mon], ['year', '本年', yr]].map(([key, label, s]) =>
      el('tr', null, el('th', { scope: 'row', text: label }), ...FIGURES.map(([k, kind]) =>
        el('td', { 'data-fig': `${key}.${k}`, class: k === 'open_overdue' && figureOf(s, k) > 0 ? 'num bad' : 'num', text: fmtNumber(figureOf(s, k), kind) })))));

    $('ov-trend-range').textContent = `${from30} 至 ${today}`;
    if (trend instanceof Error) {
      $('ov-trend').replaceChildren(el('p', { class: 'error', text: '趋势图无法加载：' + errorText(trend) }));
    } else {
      const byDay = new Map((trend.groups || []).map((g) => [String(g.key).slice(0, 10), g]));
      const days = [];
      for (let d = from30; d <= today; d = addDays(d, 1)) days.push(d);
      $('ov-trend').replaceChildren(lineChart(days.map((d) => d.slice(5)), [
        { name: '上报', cls: 's1', values: days.map((d) => (byDay.get(d) || {}).reported || 0) },
        { name: '结案', cls: 's2', values: days.map((d) => (byDay.get(d) || {}).closed || 0) },
      ]));
    }

    const top = (mon.groups || []).slice().sort((a, b) => (b.reported || 0) - (a.reported || 0)).slice(0, 8);
    $('ov-categories').replaceChildren(top.length
      ? barChart(top.map((g) => ({ label: g.name || categoryName(g.key), value: g.reported || 0 })))
      : el('p', { class: 'muted', text: '本月还没有上报。' }));

    if (party instanceof Error) {
      $('ov-party').replaceChildren(el('p', { class: 'error', text: errorText(party) }));
    } else {
      $('ov-party').replaceChildren(...[
        ['党员参与解决问题', party.resolved_with_party_members, 'resolved_with_party_members'],
        ['党员参与人次', party.participations, 'participations'],
        ['参与党员', party.distinct_members, 'distinct_members'],
        ['党员活动', party.activities, 'activities'],
        ['活动参与人次', party.activity_participations, 'activity_participations'],
      ].map(([label, v, k]) => el('div', { class: 'tile' },
        el('div', { class: 'tile-value', 'data-fig': 'party.' + k, text: fmtNumber(v) }),
        el('div', { class: 'tile-label', text: label }))));
    }
    // The summary says when the statistics last counted a transition
    // (docs/statistics.md, Freshness); the newest of the three calls.
    const counted = [day, mon, yr].map((x) => Date.parse(x.updated_at)).filter((v) => !isNaN(v));
    const at = counted.length ? new Date(Math.max(...counted)) : null;
    $('ov-updated').textContent = at
      ? `数据更新于 ${clockFormat.format(at)}（北京时间，读取于 ${clockFormat.format(new Date()).slice(-8)}）`
      : `数据更新于 ${clockFormat.format(new Date())}（北京时间）`;
  }

  // niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (v <= 5) return 5;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // lineChart draws series over the same labels, with a y axis from 0.
  function lineChart(labels, series) {
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
  function barChart(rows) {
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

  // ---- 地图 ---------------------------------------------------------------

  // allTickets reads every page of a ticket query, up to cap tickets.
  async function allTickets(query, cap) {
    const out = [];
    let cursor = '';
    let total = 0;
    do {
      const page = await api('GET', '/admin/tickets', { query: Object.assign({}, query, { limit: '100', cursor }) });
      out.push(...(page.items || []));
      total = page.total || out.length;
      cursor = page.next_cursor || '';
    } while (cursor && out.length < cap);
    return { items: out, total: Math.max(total, out.length) };
  }

  // projection fits WGS-84 [lng, lat] pairs into a width × height box: an
  // equirectangular projection scaled by the cosine of the middle latitude,
  // which is true enough at the size of a city.
  function projection(points, width, height, pad) {
    let minX = Infinity; let maxX = -Infinity; let minY = Infinity; let maxY = -Infinity;
    for (const [lng, lat] of points) {
      minX = Math.min(minX, lng); maxX = Math.max(maxX, lng);
      minY = Math.min(minY, lat); maxY = Math.max(maxY, lat);
    }
    if (!isFinite(minX)) { minX = 118.7; maxX = 118.9; minY = 32; maxY = 32.1; }
    const k = Math.cos(((minY + maxY) / 2) * Math.PI / 180);
    const spanX = Math.max((maxX - minX) * k, 1e-4);
    const spanY = Math.max(maxY - minY, 1e-4);
    const s = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
    const offX = (width - spanX * s) / 2;
    const offY = (height - spanY * s) / 2;
    return ([lng, lat]) => [offX + (lng - minX) * k * s, offY + (maxY - lat) * s];
  }

  function gridRings(g) {
    const geom = g.geometry;
    if (!geom || !Array.isArray(geom.coordinates)) return [];
    const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
    return polys.flat();
  }

  function ticketPoint(t) {
    return t.location ? [Number(t.location.lng), Number(t.location.lat)] : null;
  }

  // The map's points are drawn in WGS-84 like the grids; a report sent in
  // GCJ-02 is echoed as sent, so it is moved back here (the inverse of the
  // public offset formula, good to a metre or two).
  function wgs84(t) {
    const p = ticketPoint(t);
    if (!p || !t.location || t.location.coord_type !== 'gcj02') return p;
    const [lng, lat] = p;
    const a = 6378245.0; const ee = 0.00669342162296594323;
    const x = lng - 105; const y = lat - 35;
    let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    dLat += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    dLat += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    let dLng = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLng += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    dLng += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    dLng += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    const rad = lat / 180 * Math.PI;
    let magic = Math.sin(rad);
    magic = 1 - ee * magic * magic;
    const sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
    dLng = (dLng * 180) / (a / sq * Math.cos(rad) * Math.PI);
    return [lng - dLng, lat - dLat];
  }

  async function loadMap() {
    const f = $('map-form').elements;
    const mode = f.mode.value;
    await loadGrids();
    let tickets; let total;
    if (mode === 'heat') {
      ({ items: tickets, total } = await allTickets({ from: str(f.from.value), to: str(f.to.value) }, 5000));
    } else {
      // A server without the 挂账 step refuses status=deferred (400): it
      // has no such tickets.
      const parts = await Promise.all(OPEN.map((s) => allTickets({ status: s }, 2000)
        .catch((e) => { if (e.status === 400 && s === 'deferred') return { items: [], total: 0 }; throw e; })));
      tickets = parts.flatMap((p) => p.items);
      total = parts.reduce((n, p) => n + p.total, 0);
    }
    drawMap(mode, tickets);
    $('map-count').textContent = mode === 'heat'
      ? `${str(f.from.value) || '不限'} 至 ${str(f.to.value) || '不限'} 上报 ${total} 件` + (tickets.length < total ? `（绘出前 ${tickets.length} 件）` : '')
      : `在办工单 ${total} 件` + (tickets.length < total ? `（绘出 ${tickets.length} 件）` : '') + `，网格 ${state.grids.length} 个`;
  }

  const POINT_CLASS = { submitted: 'p-new', pending: 'p-pending', dispatched: 'p-work', in_progress: 'p-work', deferred: 'p-deferred' };

  function drawMap(mode, tickets) {
    const W = 1000; const H = 620;
    const coords = state.grids.flatMap((g) => gridRings(g).flat());
    const pts = tickets.map((t) => [t, wgs84(t)]).filter(([, p]) => p && isFinite(p[0]) && isFinite(p[1]));
    const proj = projection(coords.length ? coords : pts.map(([, p]) => p), W, H, 24);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'map-svg', role: 'img', 'aria-label': '网格与工单地图' });
    const grids = svg('g', { id: 'map-grids' });
    const labels = svg('g', { id: 'map-labels' });
    for (const g of state.grids) {
      const rings = gridRings(g);
      if (!rings.length) continue;
      const d = rings.map((r) => 'M' + r.map((p) => proj(p).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z').join('');
      grids.append(svg('path', { d, class: 'grid-area', 'data-code': g.code, 'fill-rule': 'evenodd' },
        svg('title', { text: `${g.name}（${g.community}）${g.code}` })));
      const xy = rings[0].map(proj);
      const cx = xy.reduce((s, p) => s + p[0], 0) / xy.length;
      const cy = xy.reduce((s, p) => s + p[1], 0) / xy.length;
      labels.append(svg('text', { x: cx.toFixed(1), y: cy.toFixed(1), class: 'grid-label', 'text-anchor': 'middle', text: g.name }));
    }
    root.append(grids);
    if (mode === 'heat') {
      // Reports are counted in square cells, then spread over the cells
      // around with a small Gaussian kernel, so that clusters read as
      // areas rather than as single squares.
      const cell = 16;
      const counts = new Map();
      for (const [, p] of pts) {
        const [x, y] = proj(p);
        const key = `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
        counts.set(key, (counts.get(key) || 0) + 1);
      }
      const heatv = new Map();
      for (const [key, n] of counts) {
        const [i, j] = key.split(',').map(Number);
        for (let di = -3; di <= 3; di++) {
          for (let dj = -3; dj <= 3; dj++) {
            const k2 = `${i + di},${j + dj}`;
            heatv.set(k2, (heatv.get(k2) || 0) + n * Math.exp(-(di * di + dj * dj) / 3));
          }
        }
      }
      const max = Math.max(1e-9, ...heatv.values());
      const heat = svg('g', { id: 'map-heat' });
      for (const [key, v] of heatv) {
        const r = v / max;
        if (r < 0.04) continue;
        const [i, j] = key.split(',').map(Number);
        heat.append(svg('rect', {
          x: i * cell, y: j * cell, width: cell, height: cell,
          class: r > 0.66 ? 'heat h3' : r > 0.33 ? 'heat h2' : 'heat h1', 'fill-opacity': (0.1 + 0.7 * r).toFixed(2),
        }, counts.has(key) ? svg('title', { text: `此处 ${counts.get(key)} 件` }) : null));
      }
      root.append(heat, labels);
      $('map-legend').replaceChildren(el('span', null, el('i', { class: 'swatch heat-lo' }), '上报较少'),
        el('span', null, el('i', { class: 'swatch heat-mid' }), '较多'),
        el('span', null, el('i', { class: 'swatch heat-hi' }), '集中'),
        el('span', null, `共 ${pts.length} 件，按方格统计并向周围平滑`));
    } else {
      root.append(labels);
      const dots = svg('g', { id: 'map-points' });
      let outside = 0;
      for (const [t, p] of pts) {
        let [x, y] = proj(p);
        // A ticket far from every grid (in the staff's queue) is drawn at
        // the edge, toward where it is, so the grids keep their size.
        const cx = Math.min(W - 8, Math.max(8, x));
        const cy = Math.min(H - 8, Math.max(8, y));
        const out = cx !== x || cy !== y;
        if (out) outside++;
        [x, y] = [cx, cy];
        const c = svg('circle', {
          cx: x.toFixed(1), cy: y.toFixed(1), r: 6, tabindex: 0, 'data-id': t.id,
          class: `pt ${POINT_CLASS[t.status] || 'p-work'}${t.overdue ? ' overdue' : ''}${out ? ' outside' : ''}`,
        }, svg('title', { text: `${STATUS[t.status] || t.status}${t.overdue ? '·超期' : ''}${out ? '·在网格范围外' : ''} ${categoryName(t.category)} ${t.address || ''}` }));
        dots.append(c);
      }
      state.mapOutside = outside;
      root.append(dots);
      $('map-legend').replaceChildren(...[
        ['p-new', '待筛查'], ['p-pending', '待派遣'], ['p-work', '已派遣 / 处置中'], ['p-deferred', '已挂账'], ['overdue', '超期（红圈）'],
        ...(state.mapOutside ? [['outside', `网格范围外 ${state.mapOutside} 件（画在边缘）`]] : []),
      ].map(([cls, label]) => el('span', null, el('i', { class: 'swatch ' + cls }), label)));
    }
    $('map').replaceChildren(root);
  }

  // ---- 工单 ---------------------------------------------------------------

  function assigneeText(a) {
    if (!a || !a.id) return '未指派';
    const role = ROLES[a.role] || a.role || '';
    return a.name ? `${a.name}（${role}）` : role;
  }

  // assigneeCell is the list's 处置人: the name, its role on hover.
  function assigneeCell(a) {
    if (!a || !a.id) return el('td', { class: 'muted nowrap', text: '未指派' });
    const role = ROLES[a.role] || a.role || '';
    return el('td', { class: 'nowrap', title: role, text: a.name || role });
  }

  function dueAt(t) { return t.due_at || ''; }

  function flags(t) {
    const out = [];
    if (t.overdue) out.push(['超期', 'bad']);
    if (t.escalated) out.push(['已上报', 'bad']);
    if (t.held) out.push(['待审核', 'warn']);
    if (t.queue === 'staff') out.push(['待人工派遣', 'warn']);
    if (t.extension && t.extension.status === 'requested') out.push(['申请延期', 'warn']);
    if (t.pool) out.push(['党员可认领', '']);
    if (t.reporters > 1) out.push([`${t.reporters} 人反映`, '']);
    if (t.returns > 0) out.push([`退回 ${t.returns} 次`, '']);
    return out.map(([text, cls]) => el('span', { class: 'tag ' + cls, text }));
  }

  function dueCell(t) {
    const due = dueAt(t);
    if (!due) return td('—');
    const open = OPEN.includes(t.status);
    return td(fmtShort(due), open && t.status !== 'deferred' ? el('div', { class: t.overdue || Date.parse(due) < Date.now() ? 'left bad' : 'left', text: timeLeft(due) }) : null);
  }

  function ticketRow(t) {
    const tr = el('tr', { class: 'clickable' + (t.overdue ? ' overdue' : ''), tabindex: 0, 'data-id': t.id },
      el('td', { class: 'nowrap', text: fmtShort(t.created_at) }), el('td', { class: 'nowrap', text: categoryName(t.category) }), td(statusTag(t.status)),
      el('td', { class: 'nowrap', text: SOURCES[t.source] || t.source || '—' }), td(t.address || '—'), el('td', { class: 'nowrap', text: gridName(t.grid_id) }),
      assigneeCell(t.assignee), dueCell(t), td(flags(t)));
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
    const q = {};
    for (const k of ['q', 'status', 'grid', 'category', 'source', 'from', 'to', 'sort']) q[k] = str(fd.get(k));
    q.overdue = fd.get('overdue') ? 'true' : '';
    q.queue = fd.get('queue') ? 'staff' : '';
    return q;
  }

  function searchTickets() {
    state.filter = readTicketFilter();
    state.cursor = '';
    state.listed.clear();
    $('ticket-rows').replaceChildren();
    $('ticket-more').hidden = true;
    $('ticket-empty').hidden = true;
    $('ticket-total').textContent = '';
    return loadTickets();
  }

  async function loadTickets() {
    const seq = ++state.ticketSeq;
    const page = await api('GET', '/admin/tickets', { query: Object.assign({}, state.filter, { limit: '50', cursor: state.cursor }) });
    if (seq !== state.ticketSeq) return; // a newer search replaced this one
    for (const t of page.items || []) {
      if (state.listed.has(t.id)) continue; // moved up a page since the last one was read
      state.listed.add(t.id);
      // A ticket opened before the list came keeps its fuller detail.
      const known = Object.assign({}, t, state.tickets.get(t.id));
      state.tickets.set(t.id, known);
      $('ticket-rows').append(ticketRow(known));
    }
    state.cursor = page.next_cursor || '';
    $('ticket-more').hidden = !state.cursor;
    $('ticket-empty').hidden = state.listed.size > 0;
    const shown = $('ticket-rows').children.length;
    $('ticket-total').textContent = page.total !== undefined ? `共 ${page.total} 件，已显示 ${shown} 件` : `已显示 ${shown} 件`;
  }

  async function exportTickets() {
    const res = await api('GET', '/admin/tickets/export.xlsx', { query: readTicketFilter(), raw: true });
    await download(res, `工单清单_${todayCST()}.xlsx`);
  }

  function field(dl, label, value) {
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return;
    dl.append(el('dt', { text: label }), el('dd', null, value));
  }

  function actorText(a) {
    if (!a) return '';
    const role = ROLES[a.role] || a.role || '';
    return a.name ? `${role} ${a.name}` : role;
  }

  function renderTicket(t) {
    const dl = $('ticket-fields');
    dl.replaceChildren();
    field(dl, '编号', el('code', { text: t.id }));
    field(dl, '状态', [statusTag(t.status), ...flags(t)]);
    field(dl, '类别', `${categoryName(t.category)}（${t.category}）`);
    field(dl, '来源', SOURCES[t.source] || t.source);
    field(dl, '描述', t.description);
    field(dl, '地址', t.address);
    if (t.location) field(dl, '位置', `${Number(t.location.lat).toFixed(6)}, ${Number(t.location.lng).toFixed(6)}（${t.location.coord_type === 'gcj02' ? 'GCJ-02' : 'WGS-84'}）`);
    field(dl, '网格', t.grid_id ? `${gridName(t.grid_id)}（${t.grid_id}）` : '无网格');
    const a = t.assignee;
    field(dl, '处置人', a && a.id ? `${assigneeText(a)}${a.phone ? ' ' + a.phone : ''}` : '未指派');
    const due = dueAt(t);
    if (due) field(dl, '处置时限', el('span', { class: t.overdue ? 'bad' : '' }, fmtTime(due), OPEN.includes(t.status) && t.status !== 'deferred' ? `（${timeLeft(due)}）` : ''));
    if (t.caller) field(dl, '来电人', `${t.caller.name || ''} ${t.caller.phone || ''}`.trim());
    if (t.caller_name || t.caller_phone) field(dl, '来电人', `${t.caller_name || ''} ${t.caller_phone || ''}`.trim());
    field(dl, '反映人数', t.reporters > 1 ? String(t.reporters) : '');
    field(dl, '合并到', t.duplicate_of);
    field(dl, '驳回理由', t.reject_reason);
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
      const who = actorText(ev.actor);
      const to = ev.assignee ? `→ ${actorText(ev.assignee)}` : '';
      tl.append(el('li', null,
        el('time', { datetime: ev.at, text: fmtTime(ev.at) }), ' ',
        el('strong', { text: EVENTS[ev.type] || ev.type }), ' ',
        ev.status ? statusTag(ev.status) : null,
        who ? el('span', { class: 'muted', text: ' · ' + who }) : null,
        to ? el('span', { class: 'muted', text: ' ' + to }) : null,
        ev.note ? el('div', { class: 'note', text: ev.note }) : null));
    }
    if (!tl.children.length) tl.append(el('li', { class: 'muted', text: '暂无记录' }));

    // Which steps this status allows; the server decides in the end (409).
    const s = t.status;
    const ext = t.extension && t.extension.status === 'requested' ? t.extension : null;
    $('act-extension').hidden = !ext;
    if (ext) $('ext-text').textContent = `处置人申请延期 ${ext.hours} 小时（${fmtTime(ext.requested_at)}）：${ext.reason || ''}`;
    $('verify-form').hidden = s !== 'resolved';
    $('act-dispatch').hidden = !['pending', 'dispatched', 'in_progress'].includes(s);
    $('urge-form').hidden = !['dispatched', 'in_progress'].includes(s);
    $('defer-form').hidden = !['pending', 'dispatched', 'in_progress'].includes(s);
    $('resume-form').hidden = s !== 'deferred';
    $('reject-form').hidden = !['submitted', 'pending'].includes(s);
    $('act-dispatch').querySelector('h3').firstChild.textContent = s === 'pending' ? '派遣 ' : '改派 ';
    for (const f of $('ticket-actions').querySelectorAll('[data-error]')) f.textContent = '';
    for (const tr of $('ticket-rows').children) tr.classList.toggle('selected', tr.dataset.id === t.id);
  }

  // readTicket is the staff's full view of a ticket: names, phone, caller.
  function readTicket(id) { return api('GET', '/admin/tickets/' + enc(id)); }

  async function openTicket(id) {
    state.current = id;
    const cached = state.tickets.get(id);
    if (cached) renderTicket(cached);
    $('ticket-detail').hidden = !cached;
    try {
      const fresh = await readTicket(id);
      if (state.current !== id) return;
      updated(fresh);
      $('ticket-detail').hidden = false;
      // Side by side (wide screens) the detail is in view already.
      if (window.innerWidth < 1100) $('ticket-detail').scrollIntoView({ block: 'nearest' });
      if (!$('act-dispatch').hidden) await loadCandidates(id);
    } catch (e) {
      if (e.status !== 401) flash('读取工单失败：' + errorText(e), true);
    }
  }

  function updated(t) {
    state.tickets.set(t.id, Object.assign({}, state.tickets.get(t.id), t));
    replaceRow(state.tickets.get(t.id));
    if (state.current === t.id) renderTicket(state.tickets.get(t.id));
  }

  // The staff's steps on a ticket.
  const STEPS = {
    dispatch: (id, json) => api('POST', `/admin/tickets/${enc(id)}/dispatch`, { json }),
    reject: (id, json) => api('POST', `/admin/tickets/${enc(id)}/reject`, { json }),
    urge: (id, json) => api('POST', `/admin/tickets/${enc(id)}/urge`, { json }),
    defer: (id, json) => api('POST', `/admin/tickets/${enc(id)}/defer`, { json }),
    resume: (id, json) => api('POST', `/admin/tickets/${enc(id)}/resume`, { json }),
    extension: (id, json) => api('POST', `/admin/tickets/${enc(id)}/extension`, { json }),
    verify: (id, json) => api('POST', `/admin/tickets/${enc(id)}/verify`, { json }),
  };

  // act runs one staff step on the open ticket and shows the result.
  async function act(step, body, done) {
    const id = state.current;
    const t = await STEPS[step](id, body);
    if (t && t.id) updated(t);
    flash(done);
    // The clerk may have opened another ticket while this step was on its
    // way: reopen this one only if it is still the one shown.
    if (state.current === id) await openTicket(id);
  }

  async function loadCandidates(id) {
    const box = $('cand-rows');
    $('cand-error').textContent = '';
    // The same ticket's rows stay until the new ones come, so the page does
    // not jump under the clerk's pointer.
    if (box.dataset.ticket !== id) {
      box.dataset.ticket = id;
      box.replaceChildren(el('tr', null, el('td', { colspan: 5, class: 'muted', text: '正在读取可派遣人员…' })));
    }
    let page;
    try {
      page = await api('GET', `/admin/tickets/${enc(id)}/candidates`);
    } catch (e) {
      box.replaceChildren();
      $('cand-error').textContent = '读取可派遣人员失败：' + errorText(e);
      return;
    }
    if (state.current !== id) return;
    const cur = (state.tickets.get(id) || {}).assignee || {};
    const items = page.items || [];
    box.replaceChildren(...items.map((c) => {
      const b = el('button', { type: 'button', class: 'small secondary', 'data-candidate': c.id, text: c.id === cur.id ? '当前处置人' : '派遣' });
      if (c.id === cur.id) b.disabled = true;
      else {
        // Asked on the page first, so that a stray click dispatches nobody.
        confirmClick(b, `确认派给${c.name}？`, () => act('dispatch', { assignee_id: c.id }, `已派遣给 ${c.name}。`));
      }
      return el('tr', { class: c.on_duty ? '' : 'off' },
        td(c.name || '（未知姓名）'), td(ROLES[c.role] || c.role || ''), td(c.on_duty ? '在岗' : '不在岗'),
        td(String(c.open_tasks === undefined ? '—' : c.open_tasks)), td(b));
    }));
    if (!items.length) box.append(el('tr', null, el('td', { colspan: 5, class: 'muted', text: '没有可派遣的人员：请先在“人员”中为该网格或社区添加网格员或在职党员。' })));
  }

  function numberIn(v, name, lo, hi) {
    const n = Number(str(v));
    if (str(v) === '' || !isFinite(n) || n < lo || n > hi) throw new Error(`${name}必须是 ${lo} 到 ${hi} 之间的数`);
    return n;
  }

  // ---- 网格 ---------------------------------------------------------------

  async function loadGrids() {
    const page = await api('GET', '/admin/grids');
    const items = page.items || [];
    state.grids = items;
    $('grid-rows').replaceChildren(...items.map((g) => el('tr', null, td(g.code), td(g.name), td(g.community),
      td(g.geometry ? `${gridRings(g).length} 个边界环` : '—'))));
    $('grid-empty').hidden = items.length > 0;
    $('grid-codes').replaceChildren(...items.map((g) => el('option', { value: g.code, label: `${g.name}（${g.community}）` })));
    const communities = [...new Set(items.map((g) => g.community).filter(Boolean))].sort();
    $('communities').replaceChildren(...communities.map((c) => el('option', { value: c })));
    for (const id of ['f-grid', 'p-grid']) {
      const sel = $(id);
      const keep = sel.value;
      sel.replaceChildren(el('option', { value: '', text: '全部' }),
        ...items.map((g) => el('option', { value: g.code, text: `${g.name}（${g.code}）` })));
      sel.value = keep;
    }
  }

  // ---- 人员 ---------------------------------------------------------------

  // The people directory's calls, spelled out per kind so that every path
  // in this script can be checked against the server's routes.
  const PEOPLE = {
    workers: {
      label: '网格员',
      list: (query) => api('GET', '/admin/workers', { query }),
      create: (json) => api('POST', '/admin/workers', { json }),
      patch: (id, json) => api('PATCH', '/admin/workers/' + enc(id), { json }),
      invite: (id) => api('POST', `/admin/workers/${enc(id)}/invite`),
    },
    members: {
      label: '在职党员',
      list: (query) => api('GET', '/admin/party-members', { query }),
      create: (json) => api('POST', '/admin/party-members', { json }),
      patch: (id, json) => api('PATCH', '/admin/party-members/' + enc(id), { json }),
      invite: (id) => api('POST', `/admin/party-members/${enc(id)}/invite`),
    },
    branches: {
      label: '党支部',
      list: () => api('GET', '/admin/branches'),
      create: (json) => api('POST', '/admin/branches', { json }),
      patch: (id, json) => api('PATCH', '/admin/branches/' + enc(id), { json }),
    },
  };

  function showInvite(kind, name, res) {
    const dl = $('invite-fields');
    dl.replaceChildren();
    field(dl, '身份', kind);
    field(dl, '姓名', name);
    field(dl, '邀请码', el('code', { class: 'invite-code', text: res.invite_code }));
    const exp = res.expires_at || res.invite_expires_at;
    field(dl, '有效期至', exp ? fmtTime(exp) : '');
    $('invite').hidden = false;
    $('invite').scrollIntoView({ block: 'nearest' });
  }

  async function loadBranches() {
    const page = await api('GET', '/admin/branches');
    state.branches = page.items || [];
    const sel = $('p-branch');
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '', text: '请选择党支部' }),
      ...state.branches.map((b) => el('option', { value: b.id, text: b.name })));
    sel.value = keep;
    return state.branches;
  }

  function branchName(id) {
    const b = state.branches.find((x) => x.id === id);
    return b ? b.name : '';
  }

  function readPeopleFilter() {
    const fd = new FormData($('people-filter'));
    const kind = str(fd.get('kind')) || 'workers';
    return { kind, query: kind === 'branches' ? {} : { q: str(fd.get('q')), grid: kind === 'workers' ? str(fd.get('grid')) : '', active: str(fd.get('active')) } };
  }

  function searchPeople() {
    const { kind, query } = readPeopleFilter();
    const p = state.people;
    // The open form belongs to the kind listed before.
    if (kind !== p.kind) $('person-form').hidden = true;
    Object.assign(p, { kind, query, cursor: '', rows: new Map() });
    const f = $('people-filter').elements;
    f.q.closest('label').hidden = kind === 'branches';
    f.active.closest('label').hidden = kind === 'branches';
    f.grid.closest('label').hidden = kind !== 'workers';
    $('people-rows').replaceChildren();
    $('people-total').textContent = '';
    $('people-title').firstChild.textContent = PEOPLE[kind].label + ' ';
    const heads = {
      workers: ['姓名', '手机号', '负责网格', '绑定', '在岗', '在办任务', '状态', '操作'],
      members: ['姓名', '手机号', '党支部', '服务社区', '绑定', '在岗', '在办任务', '状态', '操作'],
      branches: ['支部名称', '党员人数', '操作'],
    }[kind];
    $('people-head').replaceChildren(el('tr', null, ...heads.map((h) => el('th', { text: h }))));
    return loadPeople();
  }

  async function loadPeople() {
    const p = state.people;
    const seq = ++p.seq;
    const page = await PEOPLE[p.kind].list(Object.assign({}, p.query, { limit: '50', cursor: p.cursor }));
    if (seq !== p.seq) return;
    for (const x of page.items || []) {
      if (p.rows.has(x.id)) continue;
      p.rows.set(x.id, x);
      $('people-rows').append(personRow(p.kind, x));
    }
    p.cursor = page.next_cursor || '';
    $('people-more').hidden = !p.cursor;
    $('people-empty').hidden = p.rows.size > 0;
    const n = $('people-rows').children.length;
    $('people-total').textContent = page.total !== undefined ? `共 ${page.total} 人，已显示 ${n} 人` : (p.kind === 'branches' ? `共 ${n} 个` : `已显示 ${n} 人`);
  }

  function yes(v, y, n) { return el('span', { class: v ? 'tag ok' : 'tag', text: v ? y : n }); }

  function personRow(kind, x) {
    const ops = el('td', { class: 'ops' });
    const edit = el('button', { type: 'button', class: 'link', text: kind === 'branches' ? '改名' : '编辑' });
    edit.addEventListener('click', () => openPersonForm(kind, x));
    ops.append(edit);
    if (kind === 'branches') {
      return el('tr', { 'data-id': x.id }, td(x.name), td(String(x.members === undefined ? '—' : x.members)), ops);
    }
    const who = PEOPLE[kind].label;
    if (x.active !== false) {
      const off = el('button', { type: 'button', class: 'link danger-link', 'data-action': 'deactivate', text: '停用' });
      confirmClick(off, '确认停用？', async () => {
        const res = await PEOPLE[kind].patch(x.id, { active: false });
        flash(`已停用${who}${x.name}，其在办任务已重新派遣。`);
        replacePerson(kind, Object.assign({}, x, res && res.id ? res : { active: false, on_duty: false }));
      });
      const inv = el('button', { type: 'button', class: 'link', 'data-action': 'invite', text: '重新邀请' });
      confirmClick(inv, '确认生成新邀请码？', async () => {
        const res = await PEOPLE[kind].invite(x.id);
        showInvite(who, x.name, res);
      });
      ops.append(' ', inv, ' ', off);
    } else {
      const on = el('button', { type: 'button', class: 'link', 'data-action': 'activate', text: '重新启用' });
      onClick(on, async () => {
        const res = await PEOPLE[kind].patch(x.id, { active: true });
        flash(`已重新启用${who}${x.name}。`);
        replacePerson(kind, Object.assign({}, x, res && res.id ? res : { active: true }));
      });
      ops.append(' ', on);
    }
    const cells = kind === 'workers'
      ? [td(x.name), td(x.phone || '—'), td((x.grid_codes || []).map(gridName).join('、') || '—')]
      : [td(x.name), td(x.phone || '—'), td(x.branch_name || branchName(x.branch_id) || '—'), td((x.communities || []).join('、') || '—')];
    return el('tr', { 'data-id': x.id, class: x.active === false ? 'inactive' : '' }, ...cells,
      td(yes(x.bound, '已绑定', '未绑定')), td(yes(x.on_duty, '在岗', '不在岗')),
      td(String(x.open_tasks === undefined ? '—' : x.open_tasks)), td(x.active === false ? '已停用' : '在用'), ops);
  }

  function replacePerson(kind, x) {
    state.people.rows.set(x.id, x);
    for (const tr of $('people-rows').children) {
      if (tr.dataset.id === x.id) { tr.replaceWith(personRow(kind, x)); return; }
    }
  }

  function openPersonForm(kind, x) {
    const form = $('person-form');
    form.reset();
    const f = form.elements;
    f.kind.value = kind;
    f.id.value = x ? x.id : '';
    $('person-form-title').textContent = `${x ? (kind === 'branches' ? '改名' : '编辑') : '新增'}${PEOPLE[kind].label}`;
    for (const lab of form.querySelectorAll('[data-for]')) lab.hidden = !lab.dataset.for.split(' ').includes(kind);
    f.phone.required = !x && kind !== 'branches';
    f.grid_codes.required = !x && kind === 'workers';
    f.branch_id.required = kind === 'members';
    f.communities.required = !x && kind === 'members';
    if (x) {
      f.name.value = x.name || '';
      f.phone.value = x.phone || '';
      f.grid_codes.value = (x.grid_codes || []).join(', ');
      f.branch_id.value = x.branch_id || '';
      f.communities.value = (x.communities || []).join(', ');
    }
    form.hidden = false;
    form.scrollIntoView({ block: 'nearest' });
    f.name.focus();
  }

  async function savePerson(fd, form) {
    const kind = str(fd.get('kind'));
    const id = str(fd.get('id'));
    const name = str(fd.get('name'));
    let body = { name };
    if (kind === 'workers') body = { name, phone: str(fd.get('phone')), grid_codes: list(fd.get('grid_codes')) };
    if (kind === 'members') {
      body = { name, phone: str(fd.get('phone')), branch_id: str(fd.get('branch_id')), communities: list(fd.get('communities')) };
    }
    if (id) {
      // Only what was filled in is changed.
      for (const k of Object.keys(body)) if (body[k] === '' || (Array.isArray(body[k]) && !body[k].length)) delete body[k];
      const res = await PEOPLE[kind].patch(id, body);
      flash(`已保存${PEOPLE[kind].label}${name}。`);
      if (kind === 'branches') await loadBranches();
      if (res && res.id) replacePerson(kind, Object.assign({}, state.people.rows.get(id), res));
      else await searchPeople();
    } else {
      const res = await PEOPLE[kind].create(body);
      if (kind === 'branches') {
        await loadBranches();
        flash(`党支部“${name}”已创建。`);
      } else {
        showInvite(PEOPLE[kind].label, name, res);
      }
      await searchPeople();
    }
    form.hidden = true;
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
    const fd = new FormData($('stats-form'));
    const [sum, party] = await Promise.all([
      api('GET', '/stats/summary', { query: p }),
      api('GET', '/stats/party-building', { query: { from: p.from, to: p.to } }),
      loadRanking({ from: p.from, to: p.to, by: str(fd.get('by')), min_sample: str(fd.get('min_sample')) }),
    ]);
    $('stats-period').textContent = `${sum.from || p.from} 至 ${sum.to || p.to}`;
    $('stats-summary').replaceChildren(...INDICATORS.filter(([k]) => sum[k] !== undefined).map(([k, label, kind]) =>
      el('div', { class: 'tile small' }, el('div', { class: 'tile-value', text: fmtNumber(sum[k], kind) }),
        el('div', { class: 'tile-label', text: label }))));

    const groups = sum.groups || [];
    $('stats-groups-box').hidden = !p.group_by;
    $('stats-groups-head').replaceChildren(el('tr', null,
      el('th', { text: GROUP_NAMES[p.group_by] || '分组' }), el('th', { text: '编码' }),
      ...GROUP_COLUMNS.map(([, label]) => el('th', { text: label }))));
    const groupName = (g) => (p.group_by === 'source' ? SOURCES[g.key] : '') || g.name || (p.group_by === 'category' ? categoryName(g.key) : '') || g.key || '—';
    $('stats-groups').replaceChildren(...(groups.length ? groups.map((g) => el('tr', null,
      td(groupName(g)), td(g.key || '—'), ...GROUP_COLUMNS.map(([k, , kind]) => td(fmtNumber(g[k], kind)))))
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

  const WEIGHT_NAMES = { resolution_rate: '结案率', on_time_rate: '按期结案率', reopen_rate: '返工率', satisfaction_rate: '满意率', dispatch_accuracy: '派遣准确率', valid_report_rate: '有效上报率' };

  // loadRanking fills the ranking table; its failure is shown there and
  // does not hide the other statistics.
  async function loadRanking(q) {
    $('rank-error').textContent = '';
    let r;
    try {
      r = await api('GET', '/stats/ranking', { query: q });
    } catch (e) {
      $('rank-rows').replaceChildren();
      $('rank-excluded').textContent = '';
      $('rank-error').textContent = '排名无法加载：' + errorText(e);
      return;
    }
    $('rank-weights').textContent = Object.keys(r.weights || {}).length
      ? '权重：' + Object.entries(r.weights).map(([k, v]) => `${WEIGHT_NAMES[k] || k} ${v}`).join('，') : '';
    const items = r.items || [];
    $('rank-rows').replaceChildren(...(items.length ? items.map((x) => el('tr', null,
      td(String(x.rank)), td(x.name || x.key), td(fmtNumber(x.score === undefined ? null : Number(x.score).toFixed(3))), td(String(x.sample)),
      td(fmtNumber(x.resolution_rate, 'rate')), td(fmtNumber(x.on_time_rate, 'rate')),
      td(fmtNumber(x.reopen_rate, 'rate')), td(fmtNumber(x.satisfaction_rate, 'rate'))))
      : [el('tr', null, el('td', { colspan: 8, class: 'muted', text: '本期没有达到最少样本的单位' }))]));
    const ex = r.excluded || [];
    $('rank-excluded').textContent = ex.length ? `样本不足未排名：${ex.map((x) => `${x.name || x.key}（${x.sample}）`).join('、')}` : '';
  }

  async function exportStats() {
    const p = statsPeriod();
    const res = await api('GET', '/stats/export.xlsx', { query: { from: p.from, to: p.to }, raw: true });
    await download(res, `城管统计_${p.from}_${p.to}.xlsx`);
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

    // 概览: refreshed by hand, and every minute while it is on screen.
    onClick($('ov-refresh'), loadOverview);
    setInterval(() => {
      if (state.tab === 'overview' && !document.hidden && session()) loadOverview().catch((e) => { $('ov-error').textContent = errorText(e); });
    }, 60000);

    // 地图
    const mf = $('map-form').elements;
    const today = todayCST();
    mf.to.value = today;
    mf.from.value = addDays(today, -29);
    onSubmit($('map-form'), loadMap);
    mf.mode.addEventListener('change', () => $('map-form').requestSubmit());
    $('map').addEventListener('click', (ev) => {
      const c = ev.target.closest('circle[data-id]');
      if (c) location.hash = '#tickets/' + enc(c.dataset.id);
    });
    $('map').addEventListener('keydown', (ev) => {
      const c = ev.target.closest('circle[data-id]');
      if (c && ev.key === 'Enter') location.hash = '#tickets/' + enc(c.dataset.id);
    });

    // 工单
    const statusSel = $('f-status');
    for (const [k, v] of Object.entries(STATUS)) statusSel.append(el('option', { value: k, text: v }));
    const sourceSel = $('f-source');
    for (const [k, v] of Object.entries(SOURCES)) sourceSel.append(el('option', { value: k, text: v }));
    onSubmit($('ticket-filter'), () => searchTickets());
    $('ticket-filter').addEventListener('reset', () => setTimeout(() => searchTickets().catch((e) => showError(null, e))));
    onClick($('ticket-more'), loadTickets);
    onClick($('ticket-export'), exportTickets);
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
      if (location.hash.startsWith('#tickets/')) history.replaceState(null, '', '#tickets');
    });
    onClick($('cand-reload'), () => loadCandidates(state.current));
    onSubmit($('reject-form'), async (fd, form) => {
      await act('reject', { reason: str(fd.get('reason')) }, '已驳回。');
      form.reset();
    });
    onSubmit($('urge-form'), async (fd, form) => {
      await act('urge', { note: str(fd.get('note')) }, '已督办，处置人会收到提醒。');
      form.reset();
    });
    onSubmit($('defer-form'), async (fd, form) => {
      await act('defer', { reason: str(fd.get('reason')) }, '已挂账，计时暂停。');
      form.reset();
    });
    onSubmit($('resume-form'), () => act('resume', {}, '已恢复办理。'));
    onSubmit($('extension-form'), async (fd, form, by) => {
      const approve = !!by && by.value === 'true';
      const note = str(fd.get('note'));
      await act('extension', note ? { approve, note } : { approve }, approve ? '已批准延期。' : '已不批准延期。');
      form.reset();
    });
    onSubmit($('verify-form'), async (fd, form, by) => {
      const passed = !!by && by.value === 'true';
      await act('verify', { passed, note: str(fd.get('note')) }, passed ? '核查通过，已结案。' : '核查不通过，已返工给原处置人。');
      form.reset();
    });
    $('hotline-open').addEventListener('click', () => { $('hotline-form').hidden = false; $('hotline-form').elements.category.focus(); });
    $('hotline-close').addEventListener('click', () => { $('hotline-form').hidden = true; });
    onSubmit($('hotline-form'), async (fd, form) => {
      const t = await api('POST', '/admin/tickets', {
        json: {
          source: 'hotline', category: str(fd.get('category')), description: str(fd.get('description')),
          address: str(fd.get('address')),
          location: { lat: numberIn(fd.get('lat'), '纬度', -90, 90), lng: numberIn(fd.get('lng'), '经度', -180, 180), coord_type: 'wgs84' },
          caller_name: str(fd.get('caller_name')), caller_phone: str(fd.get('caller_phone')),
        },
      });
      form.reset();
      form.hidden = true;
      flash('热线工单已立案。');
      await searchTickets();
      await openTicket(t.id);
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
    onSubmit($('people-filter'), () => searchPeople());
    $('people-filter').elements.kind.addEventListener('change', () => searchPeople().catch((e) => showError(null, e)));
    onClick($('people-more'), loadPeople);
    $('person-new').addEventListener('click', () => openPersonForm(state.people.kind));
    $('person-form-close').addEventListener('click', () => { $('person-form').hidden = true; });
    onSubmit($('person-form'), savePerson);
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
