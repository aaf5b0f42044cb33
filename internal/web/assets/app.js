// ntmledger dashboard: a single page over the JSON API (/v1/…), kept live
// by the Server-Sent Events of /v1/live. Plain DOM, no dependencies, nothing
// fetched from outside this server.

// ---------------------------------------------------------------- i18n

const TEXT = {
  vi: {
    title: 'Sổ cái Nông thôn mới', skip: 'Bỏ qua điều hướng', menu: 'Menu',
    'nav.overview': 'Tổng quan', 'nav.progress': 'Tiến độ', 'nav.atRisk': 'Nguy cơ thu hồi',
    'nav.revocations': 'Thu hồi', 'nav.units': 'Đơn vị',
    'goto.label': 'Mã đơn vị', 'goto.button': 'Xem',
    'live.connecting': 'Đang kết nối…', 'live.on': 'Trực tiếp', 'live.off': 'Mất kết nối, đang thử lại…',
    'live.seq': 'Sự kiện cuối', 'live.feed': 'Diễn biến trực tiếp', 'live.empty': 'Chưa có sự kiện mới kể từ khi mở trang.',
    'lang.switch': 'English',
    loading: 'Đang tải…', error: 'Lỗi', none: '—', all: 'Tất cả', apply: 'Áp dụng', clear: 'Bỏ chọn', now: 'Hiện tại',
    next: 'Trang sau', prev: 'Trang trước', page: 'Trang', rows: 'dòng',
    'ov.title': 'Tổng quan cả nước', 'ov.asOf': 'Tính đến ngày', 'ov.communes': 'Xã', 'ov.ntmPlus': 'Xã đạt chuẩn NTM trở lên',
    'ov.advanced': 'Xã NTM nâng cao', 'ov.model': 'Xã NTM kiểu mẫu', 'ov.atRisk': 'Xã có nguy cơ bị thu hồi',
    'ov.districts': 'Huyện đạt chuẩn / hoàn thành', 'ov.byProvince': 'Xã theo mức đạt chuẩn, từng tỉnh',
    'ov.sortCode': 'Sắp theo mã', 'ov.sortShare': 'Sắp theo tỷ lệ đạt chuẩn', 'ov.province': 'Tỉnh', 'ov.share': 'Tỷ lệ NTM+',
    'ov.recent': 'Công nhận gần nhất', 'ov.recentRev': 'Thu hồi gần nhất', 'ov.noUnits': 'Không có đơn vị nào tại ngày này.',
    'ov.hint': 'Hiện không xã nào đang giữ mức đạt chuẩn (các xã đã được sắp xếp lại?). Xem số liệu',
    'ov.shown': 'Đang hiển thị số liệu tính đến ngày', 'ov.latest': 'ngày có quyết định công nhận gần nhất',
    'ov.noneNow': 'Hiện không xã nào đang giữ mức đạt chuẩn (các xã cũ đã được sắp xếp lại từ ngày 01/07/2025, xã mới chưa được công nhận).',
    'ov.toToday': 'Xem số liệu hiện tại',
    'pr.title': 'Tiến độ so với kế hoạch', 'pr.province': 'Tỉnh / huyện', 'pr.series': 'Cấp và mức', 'pr.year': 'Năm',
    'pr.target': 'Kế hoạch (số đơn vị)', 'pr.achieved': 'Đạt trong năm', 'pr.cumulative': 'Lũy kế', 'pr.percent': 'Tỷ lệ lũy kế',
    'pr.targetPct': 'Kế hoạch tỷ lệ', 'pr.granted': 'Công nhận', 'pr.revoked': 'Thu hồi', 'pr.units': 'Tổng số',
    'pr.onTrack': 'Đạt kế hoạch', 'pr.yes': 'Đạt', 'pr.no': 'Chưa đạt', 'pr.noData': 'Chưa có kế hoạch hay công nhận nào.',
    'pr.chart': 'Biểu đồ kế hoạch và kết quả theo năm', 'pr.dissolved': 'đã sắp xếp', 'pr.counts': 'Tính cả các đơn vị đạt mức',
    'ar.title': 'Xã có nguy cơ bị thu hồi công nhận', 'ar.rule': 'Quy định áp dụng', 'ar.failing': 'Tiêu chí không duy trì',
    'ar.basis': 'Căn cứ', 'ar.message': 'Nhận định',
    'ar.empty': 'Hiện không có xã nào có nguy cơ bị thu hồi công nhận.',
    'ar.why': 'Danh sách này chỉ gồm các xã đang tồn tại. Xã đã giải thể (sắp xếp lại) không thể bị thu hồi công nhận: nguy cơ còn mở khi giải thể được ghi trên trang của từng xã.',
    'ar.open': 'Nguy cơ còn mở khi giải thể', 'ar.dissolvedOn': 'giải thể ngày', 'ar.more': 'và còn',
    'rv.title': 'Dòng thời gian thu hồi', 'rv.from': 'Từ ngày', 'rv.to': 'Đến ngày', 'rv.reason': 'Lý do',
    'rv.decision': 'Quyết định thu hồi', 'rv.ended': 'Công nhận bị chấm dứt', 'rv.held': 'Thời gian giữ', 'rv.also': 'Cùng chấm dứt',
    'rv.none': 'Không có quyết định thu hồi nào.', 'rv.days': 'ngày',
    'un.title': 'Danh sách đơn vị', 'un.kind': 'Loại', 'un.tier': 'Mức đạt', 'un.criteria': 'Tiêu chí đạt', 'un.parent': 'Trực thuộc',
    'un.atRisk': 'Nguy cơ', 'un.granted': 'Ngày công nhận', 'un.none': 'Không có đơn vị nào.', 'un.code': 'Mã', 'un.name': 'Tên',
    'u.asOf': 'Trạng thái tại ngày', 'u.knownAt': 'Theo dữ liệu ghi nhận đến', 'u.tier': 'Mức đạt chuẩn', 'u.province': 'Tỉnh',
    'u.parent': 'Trực thuộc', 'u.rulebook': 'Bộ tiêu chí', 'u.version': 'Phiên bản', 'u.eligible': 'Đủ điều kiện công nhận',
    'u.recognitions': 'Công nhận đang giữ', 'u.criteria': 'Bảng tiêu chí', 'u.criterion': 'Tiêu chí', 'u.history': 'Lịch sử',
    'u.satisfaction': 'Mức độ hài lòng', 'u.risk': 'Nguy cơ thu hồi', 'u.noRisk': 'Không có nguy cơ thu hồi.',
    'u.dissolvedInto': 'Đã sắp xếp vào', 'u.formedFrom': 'Hình thành từ', 'u.children': 'Đơn vị trực thuộc',
    'u.notFound': 'Không tìm thấy đơn vị', 'u.met': 'đạt', 'u.recorded': 'ghi nhận', 'u.retracted': 'đã rút lại',
    'u.noCriteria': 'Chưa có đánh giá tiêu chí.', 'u.respondents': 'người trả lời', 'u.evaluatedOn': 'Đánh giá theo ngày',
    'u.older': 'Các sự kiện cũ hơn: xem toàn bộ lịch sử', 'u.lineage': 'Gồm lịch sử đơn vị cũ', 'u.dissolved': 'Đã giải thể', 'u.risksOpen': 'Nguy cơ còn mở khi giải thể',
    'u.risksOpenNote': 'Đơn vị giải thể khi chưa có quyết định thu hồi; đơn vị đã giải thể không thể bị thu hồi công nhận. Đánh giá theo ngày cuối cùng của đơn vị.',
    'u.held': 'đang giữ', 'u.revoked': 'bị thu hồi', 'u.ungraded': { commune: 'không xét (phường, thị trấn)', district: 'không xét (quận)' }, 'u.childDissolved': 'đã giải thể',
    kind: { country: 'Cả nước', province: 'Tỉnh', district: 'Huyện', commune: 'Xã', village: 'Thôn' },
    tier: { none: 'Chưa đạt chuẩn', ntm: 'Nông thôn mới', advanced: 'NTM nâng cao', model: 'NTM kiểu mẫu', modern: 'NTM hiện đại', completed: 'Hoàn thành nhiệm vụ' },
    status: { met: 'Đạt', basically_met: 'Cơ bản đạt', not_met: 'Chưa đạt', incomplete: 'Chưa đủ', '': 'Chưa đánh giá' },
    stage: { self: 'tự đánh giá', district: 'huyện thẩm tra', province: 'tỉnh thẩm định', inspection: 'kiểm tra' },
    reason: { not_maintained: 'Không duy trì', violation: 'Vi phạm', false_dossier: 'Hồ sơ không trung thực', reorganization: 'Sắp xếp đơn vị', other: 'Khác' },
    type: {
      'unit.registered': 'Đăng ký đơn vị', 'unit.classified': 'Phân loại đơn vị', 'unit.reorganized': 'Sắp xếp đơn vị hành chính',
      'rulebook.published': 'Ban hành bộ tiêu chí', 'target.set': 'Đặt kế hoạch', 'criterion.assessed': 'Đánh giá tiêu chí',
      'satisfaction.surveyed': 'Khảo sát sự hài lòng', 'recognition.requested': 'Đề nghị công nhận',
      'recognition.granted': 'Công nhận đạt chuẩn', 'recognition.revoked': 'Thu hồi công nhận', 'entry.retracted': 'Rút lại bút toán',
    },
  },
  en: {
    title: 'New Rural Development Ledger', skip: 'Skip navigation', menu: 'Menu',
    'nav.overview': 'Overview', 'nav.progress': 'Progress', 'nav.atRisk': 'At risk',
    'nav.revocations': 'Revocations', 'nav.units': 'Units',
    'goto.label': 'Unit code', 'goto.button': 'Go',
    'live.connecting': 'Connecting…', 'live.on': 'Live', 'live.off': 'Disconnected, retrying…',
    'live.seq': 'Last event', 'live.feed': 'Live feed', 'live.empty': 'No new events since the page opened.',
    'lang.switch': 'Tiếng Việt',
    loading: 'Loading…', error: 'Error', none: '—', all: 'All', apply: 'Apply', clear: 'Clear', now: 'Now',
    next: 'Next page', prev: 'Previous page', page: 'Page', rows: 'rows',
    'ov.title': 'National overview', 'ov.asOf': 'As of', 'ov.communes': 'Communes', 'ov.ntmPlus': 'Communes at NTM or above',
    'ov.advanced': 'Advanced NTM communes', 'ov.model': 'Model NTM communes', 'ov.atRisk': 'Communes at risk of revocation',
    'ov.districts': 'Districts recognized / completed', 'ov.byProvince': 'Communes by tier, per province',
    'ov.sortCode': 'Sort by code', 'ov.sortShare': 'Sort by share recognized', 'ov.province': 'Province', 'ov.share': 'NTM+ share',
    'ov.recent': 'Latest recognitions', 'ov.recentRev': 'Latest revocations', 'ov.noUnits': 'No units on this date.',
    'ov.hint': 'No commune holds a tier now (were they all reorganized?). See the figures',
    'ov.shown': 'Showing the figures as of', 'ov.latest': 'the date of the latest recognition',
    'ov.noneNow': 'No commune holds a tier now (the former communes were reorganized on 2025-07-01 and the new ones are not recognized yet).',
    'ov.toToday': "Show today's figures",
    'pr.title': 'Progress against targets', 'pr.province': 'Province / district', 'pr.series': 'Level and tier', 'pr.year': 'Year',
    'pr.target': 'Target (units)', 'pr.achieved': 'Achieved in year', 'pr.cumulative': 'Cumulative', 'pr.percent': 'Cumulative %',
    'pr.targetPct': 'Target %', 'pr.granted': 'Granted', 'pr.revoked': 'Revoked', 'pr.units': 'Units',
    'pr.onTrack': 'On track', 'pr.yes': 'Yes', 'pr.no': 'No', 'pr.noData': 'No targets or recognitions yet.',
    'pr.chart': 'Chart of targets and results per year', 'pr.dissolved': 'reorganized', 'pr.counts': 'Counts units holding',
    'ar.title': 'Communes at risk of revocation', 'ar.rule': 'Rule', 'ar.failing': 'Criteria not maintained',
    'ar.basis': 'Basis', 'ar.message': 'Assessment',
    'ar.empty': 'No current commune is at risk of revocation.',
    'ar.why': 'This list holds existing communes only. A dissolved (reorganized) commune cannot be revoked: the risks it had open when it was dissolved are shown on its unit page.',
    'ar.open': 'Risks open when dissolved', 'ar.dissolvedOn': 'dissolved on', 'ar.more': 'and',
    'rv.title': 'Revocation timeline', 'rv.from': 'From', 'rv.to': 'To', 'rv.reason': 'Reason',
    'rv.decision': 'Revocation decision', 'rv.ended': 'Recognition ended', 'rv.held': 'Held for', 'rv.also': 'Also ended',
    'rv.none': 'No revocation decisions.', 'rv.days': 'days',
    'un.title': 'Units', 'un.kind': 'Kind', 'un.tier': 'Tier', 'un.criteria': 'Criteria met', 'un.parent': 'Parent',
    'un.atRisk': 'At risk', 'un.granted': 'Recognized on', 'un.none': 'No units.', 'un.code': 'Code', 'un.name': 'Name',
    'u.asOf': 'Status as of', 'u.knownAt': 'As known at', 'u.tier': 'Tier', 'u.province': 'Province',
    'u.parent': 'Parent', 'u.rulebook': 'Rulebook', 'u.version': 'Version', 'u.eligible': 'Eligible for',
    'u.recognitions': 'Recognitions held', 'u.criteria': 'Criteria grid', 'u.criterion': 'Criterion', 'u.history': 'History',
    'u.satisfaction': 'Satisfaction', 'u.risk': 'Risk of revocation', 'u.noRisk': 'Not at risk of revocation.',
    'u.dissolvedInto': 'Reorganized into', 'u.formedFrom': 'Formed from', 'u.children': 'Units under it',
    'u.notFound': 'Unit not found', 'u.met': 'met', 'u.recorded': 'recorded', 'u.retracted': 'retracted',
    'u.noCriteria': 'No criteria assessed yet.', 'u.respondents': 'respondents', 'u.evaluatedOn': 'Evaluated on',
    'u.older': 'Older events: show the whole history', 'u.lineage': 'Include predecessors', 'u.dissolved': 'Dissolved', 'u.risksOpen': 'Risks open when dissolved',
    'u.risksOpenNote': 'The unit was dissolved before any revocation decision; a dissolved unit cannot be revoked. Evaluated on its last day.',
    'u.held': 'holding', 'u.revoked': 'revoked', 'u.ungraded': { commune: 'not graded (phường, thị trấn)', district: 'not graded (quận)' }, 'u.childDissolved': 'dissolved',
    kind: { country: 'Country', province: 'Province', district: 'District', commune: 'Commune', village: 'Village' },
    tier: { none: 'Not recognized', ntm: 'NTM', advanced: 'Advanced NTM', model: 'Model NTM', modern: 'Modern NTM', completed: 'Completed' },
    status: { met: 'Met', basically_met: 'Basically met', not_met: 'Not met', incomplete: 'Incomplete', '': 'Not assessed' },
    stage: { self: 'self', district: 'district', province: 'province', inspection: 'inspection' },
    reason: { not_maintained: 'Not maintained', violation: 'Violation', false_dossier: 'False dossier', reorganization: 'Reorganization', other: 'Other' },
    type: {
      'unit.registered': 'Unit registered', 'unit.classified': 'Unit classified', 'unit.reorganized': 'Unit reorganized',
      'rulebook.published': 'Rulebook published', 'target.set': 'Target set', 'criterion.assessed': 'Criterion assessed',
      'satisfaction.surveyed': 'Satisfaction surveyed', 'recognition.requested': 'Recognition requested',
      'recognition.granted': 'Recognition granted', 'recognition.revoked': 'Recognition revoked', 'entry.retracted': 'Entry retracted',
    },
  },
};

let lang = localStorage.getItem('ntm.lang') === 'en' ? 'en' : 'vi';

function t(key, sub) {
  const d = TEXT[lang];
  if (sub !== undefined) return (d[key] && d[key][sub]) ?? sub;
  return d[key] ?? key;
}

const TIERS = ['ntm', 'advanced', 'model', 'modern', 'completed'];
const STATUS_MARK = { met: '✓', basically_met: '≈', not_met: '✗', incomplete: '…', '': '·' };

// ---------------------------------------------------------------- formatting

function fmtDate(s) {
  if (!s) return t('none');
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) return s;
  return lang === 'vi' ? `${m[3]}/${m[2]}/${m[1]}` : `${m[1]}-${m[2]}-${m[3]}`;
}

function fmtDateTime(s) {
  if (!s) return t('none');
  const d = new Date(s);
  if (isNaN(d)) return s;
  const p = (n) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return lang === 'vi'
    ? `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()} ${time}`
    : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}

function fmtNum(n) {
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 }).format(n ?? 0);
}

function fmtPct(n) { return `${fmtNum(n)}%`; }

// ---------------------------------------------------------------- DOM helpers

// h builds an element: h('a', {href: '#/'}, 'text', child…). Attributes
// starting with "on" are listeners; class and text go through properties.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function unitLink(code, name) {
  return h('a', { href: `#/unit/${encodeURIComponent(code)}` }, name ? `${name} (${code})` : code);
}

function tierBadge(tier) {
  const k = tier || 'none';
  return h('span', { class: `tier t-${k}` }, t('tier', k));
}

function table(head, rows, opts = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { id: opts.id },
      opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null,
      h('thead', {}, h('tr', {}, head.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
      h('tbody', {}, rows)));
}

function field(label, input) { return h('label', {}, label, input); }

// ---------------------------------------------------------------- API and freshness

let lastSeq = 0;

function seen(seq) {
  if (!seq || seq <= lastSeq) return;
  lastSeq = seq;
  const el = document.getElementById('seq');
  el.textContent = fmtNum(seq);
  el.dataset.seq = String(seq);
  el.title = fmtDateTime(new Date().toISOString());
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body;
  try { body = await res.json(); } catch { body = {}; }
  if (!res.ok) {
    const err = new Error(body.error || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  seen(body.as_of_seq);
  return body;
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const str = p.toString();
  return str ? `?${str}` : '';
}

// ---------------------------------------------------------------- routing

// Routes are hashes: #/, #/progress/80, #/at-risk, #/revocations, #/units,
// #/unit/13306?as_of=2023-01-01&known_at=…
function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || 'overview', arg: parts[1] || '', params: new URLSearchParams(query || '') };
}

function go(name, arg, params) {
  let hash = `#/${name === 'overview' ? '' : name}`;
  if (arg) hash += `/${encodeURIComponent(arg)}`;
  const q = params ? qs(params) : '';
  location.hash = hash + q;
}

let current = null; // { name, view } of the mounted view

function mount() {
  const route = parseRoute();
  const view = (VIEWS[route.name] || VIEWS.overview)(route);
  const main = document.getElementById('main');
  main.replaceChildren();
  current = { route, view };
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.route === route.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  view.mount(main);
  view.refresh();
}

// ---------------------------------------------------------------- views

// A view builds its controls once (mount) and re-reads its data on refresh,
// which live changes call; a refresh never destroys the controls, so focus
// and half-typed filters survive updates.
function dataView(build) {
  let box, busy = false, again = false;
  const view = {
    mount(main) {
      box = h('div', { 'aria-busy': 'false' });
      append(main, build.controls ? build.controls() : [], box);
      box.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    },
    async refresh() {
      if (busy) { again = true; return; }
      busy = true;
      box.setAttribute('aria-busy', 'true');
      try {
        const content = await build.load();
        box.replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
        // The first view with its data on screen: what the load benchmark
        // and real-user timing read.
        if (performance.getEntriesByName(FIRST_RENDER).length === 0) performance.mark(FIRST_RENDER);
      } catch (e) {
        box.replaceChildren(h('p', { class: 'error', role: 'alert' }, `${t('error')}: ${e.message}`));
      } finally {
        busy = false;
        box.setAttribute('aria-busy', 'false');
        if (again) { again = false; view.refresh(); }
      }
    },
    wants: build.wants || (() => true),
  };
  return view;
}

// Cursor paging over the API's limit/after.
function pager(onChange) {
  const p = { cursors: [''], index: 0, next: '' };
  p.after = () => p.cursors[p.index];
  p.controls = (count) => h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'secondary', disabled: p.index === 0, onclick: () => { p.index--; onChange(); } }, `← ${t('prev')}`),
    h('span', { class: 'muted' }, `${t('page')} ${p.index + 1} · ${fmtNum(count)} ${t('rows')}`),
    h('button', { type: 'button', class: 'secondary', disabled: !p.next, onclick: () => { p.cursors[p.index + 1] = p.next; p.index++; onChange(); } }, `${t('next')} →`));
  p.reset = () => { p.cursors = ['']; p.index = 0; };
  return p;
}

const LIMIT = 100;
const FIRST_RENDER = 'ntm:first-render';

// The overview of units by tier per province, with the live feed beside it.
// as_of is a date, "now" (today's figures, even when no commune holds a
// tier), or absent: today's figures, unless no commune holds a tier today
// while recognitions are on record (every commune reorganized into a new,
// not yet recognized one); then the figures as of the latest recognition,
// with a banner saying so.
function overviewView(route) {
  const asOf = route.params.get('as_of') || '';
  const date = asOf === 'now' ? '' : asOf;
  let sortByShare = route.params.get('sort') === 'share';
  const feedBox = h('div');
  let view;
  const base = dataView({
    controls() {
      const input = h('input', { type: 'date', id: 'ov-asof', value: date });
      return h('div', {},
        h('h1', {}, t('ov.title')),
        h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); go('overview', '', { as_of: input.value || 'now' }); } },
          field(t('ov.asOf'), input),
          h('button', { type: 'submit' }, t('apply')),
          date ? h('button', { type: 'button', class: 'secondary', onclick: () => go('overview', '', { as_of: 'now' }) }, t('now')) : null));
    },
    async load() {
      const [now, revs] = await Promise.all([api(`/v1/summary${qs({ as_of: date })}`), api('/v1/revocations?limit=5')]);
      let ov = now;
      let shown = date;
      let latest = false;
      if (!asOf && ntmPlus(now.country.commune) === 0) {
        const last = now.recent.find((r) => r.kind === 'commune') || now.recent[0];
        if (last) {
          shown = last.granted_on;
          latest = true;
          ov = await api(`/v1/summary${qs({ as_of: shown })}`);
        }
      }
      renderFeedSide(feedBox, now, revs);
      return renderOverview(ov, shown, latest, sortByShare, (v) => { sortByShare = v; base.refresh(); });
    },
  });
  view = {
    mount(main) {
      const left = h('div');
      base.mount(left);
      append(main, h('div', { class: 'grid' }, left, h('aside', { 'aria-labelledby': 'feed-title' }, liveFeedCard(), feedBox)));
    },
    refresh: () => base.refresh(),
    wants: (m) => m.view === 'status' || m.view === 'revocations',
  };
  return view;
}

function ntmPlus(c) {
  if (!c) return 0;
  return (c.tiers.ntm || 0) + (c.tiers.advanced || 0) + (c.tiers.model || 0);
}

function share(c) {
  if (!c || !c.total) return 0;
  return ntmPlus(c) * 100 / c.total;
}

// renderOverview draws the summary ov as of asOf ('' for today); latest
// says asOf was chosen because no commune holds a tier today.
function renderOverview(ov, asOf, latest, sortByShare, setSort) {
  const c = ov.country.commune || { total: 0, tiers: {}, at_risk: 0 };
  const d = ov.country.district || { total: 0, tiers: {} };
  const held = ntmPlus(c);
  const dRec = (d.tiers.ntm || 0) + (d.tiers.advanced || 0) + (d.tiers.model || 0) + (d.tiers.completed || 0);
  const stat = (id, n, label, extra) => h('div', { class: 'stat', id }, h('div', { class: 'n' }, n), h('div', { class: 'l' }, label, extra));
  const cards = h('div', { class: 'cards' },
    stat('st-communes', fmtNum(c.total), t('ov.communes')),
    stat('st-ntm', fmtNum(held), t('ov.ntmPlus'), ` (${fmtPct(share(c))})`),
    stat('st-advanced', fmtNum(c.tiers.advanced || 0), t('ov.advanced')),
    stat('st-model', fmtNum(c.tiers.model || 0), t('ov.model')),
    asOf ? null : h('a', { class: 'stat', href: '#/at-risk', id: 'st-risk' }, h('div', { class: 'n risk' }, fmtNum(c.at_risk || 0)), h('div', { class: 'l' }, t('ov.atRisk'))),
    stat('st-districts', `${fmtNum(dRec)} / ${fmtNum(d.total)}`, t('ov.districts')));
  // Nothing held now but recognitions on record (e.g. every commune was
  // reorganized into a new one): offer the date of the latest grant.
  const hint = !asOf && held === 0 && ov.recent.length
    ? h('p', { class: 'notice', id: 'ov-hint' }, t('ov.hint'), ' ',
      h('a', { href: `#/${qs({ as_of: ov.recent[0].granted_on })}` }, `${t('ov.asOf')} ${fmtDate(ov.recent[0].granted_on)}`))
    : null;
  // A past date on screen is always said in words, with the way back.
  const banner = asOf
    ? h('p', { class: 'notice banner', id: 'ov-banner', role: 'status' },
      latest ? [t('ov.noneNow'), ' '] : null,
      h('strong', {}, `${t('ov.shown')} ${fmtDate(asOf)}`), latest ? ` (${t('ov.latest')})` : '', '. ',
      h('a', { href: '#/?as_of=now', id: 'ov-today' }, t('ov.toToday')))
    : null;
  const provinces = ov.provinces.filter((p) => p.units.commune && p.units.commune.total > 0);
  if (sortByShare) provinces.sort((a, b) => share(b.units.commune) - share(a.units.commune) || a.unit.localeCompare(b.unit));
  const order = ['model', 'advanced', 'ntm', 'none'];
  const rows = provinces.map((p) => {
    const cc = p.units.commune;
    const bar = h('div', { class: 'bar', role: 'img', 'aria-label': order.map((k) => `${t('tier', k)}: ${cc.tiers[k] || 0}`).join(', ') },
      order.filter((k) => cc.tiers[k]).map((k) => {
        const seg = h('span', { class: `seg-${k}`, title: `${t('tier', k)}: ${fmtNum(cc.tiers[k])}` });
        seg.style.width = `${(cc.tiers[k] * 100) / cc.total}%`;
        return seg;
      }));
    return h('tr', { 'data-province': p.unit },
      h('td', {}, h('a', { href: `#/progress/${encodeURIComponent(p.unit)}` }, p.name || p.unit), ' ', h('span', { class: 'muted' }, p.unit)),
      h('td', {}, bar),
      h('td', { class: 'num' }, `${fmtNum(cc.total - (cc.tiers.none || 0))} / ${fmtNum(cc.total)}`),
      h('td', { class: 'num' }, fmtPct(share(cc))),
      asOf ? null : h('td', { class: 'num' }, cc.at_risk ? h('a', { href: `#/at-risk?province=${encodeURIComponent(p.unit)}`, class: 'risk' }, fmtNum(cc.at_risk)) : '0'));
  });
  const legend = h('div', { class: 'legend', 'aria-hidden': 'true' },
    order.map((k) => h('span', {}, h('i', { class: `seg-${k}` }), t('tier', k))));
  return [
    banner,
    hint,
    cards,
    h('section', { class: 'card', 'aria-labelledby': 'by-province' },
      h('h2', { id: 'by-province' }, t('ov.byProvince')),
      h('div', { class: 'controls' },
        h('button', { type: 'button', class: sortByShare ? 'secondary' : '', 'aria-pressed': String(!sortByShare), onclick: () => setSort(false) }, t('ov.sortCode')),
        h('button', { type: 'button', class: sortByShare ? '' : 'secondary', 'aria-pressed': String(sortByShare), onclick: () => setSort(true) }, t('ov.sortShare'))),
      legend,
      provinces.length === 0 ? h('p', { class: 'muted' }, t('ov.noUnits')) :
        table([[t('ov.province')], [t('un.tier')], [t('ov.communes'), 'num'], [t('ov.share'), 'num'], asOf ? null : [t('un.atRisk'), 'num']].filter(Boolean),
          rows, { id: 'provinces', caption: t('ov.byProvince') })),
  ];
}

function renderFeedSide(box, ov, revs) {
  box.replaceChildren(
    h('section', { class: 'card', 'aria-labelledby': 'recent-title' },
      h('h2', { id: 'recent-title' }, t('ov.recent')),
      h('ul', { class: 'feed', id: 'recent' }, ov.recent.map((r) => h('li', {},
        h('span', { class: 'k granted' }, fmtDate(r.granted_on)),
        h('span', {}, unitLink(r.unit, r.name), ' ', tierBadge(r.tier)),
        h('span', { class: 'meta' }, r.decision || '', r.revoked_on ? ` · ${t('pr.revoked')} ${fmtDate(r.revoked_on)}` : ''))))),
    h('section', { class: 'card', 'aria-labelledby': 'recent-rev-title' },
      h('h2', { id: 'recent-rev-title' }, t('ov.recentRev')),
      revs.revocations.length === 0 ? h('p', { class: 'muted' }, t('rv.none')) :
        h('ul', { class: 'feed' }, revs.revocations.map((r) => h('li', {},
          h('span', { class: 'k revoked' }, fmtDate(r.revoked_on)),
          h('span', {}, unitLink(r.unit, r.name), ' ', tierBadge(r.tier)),
          h('span', { class: 'meta' }, t('reason', r.reason), r.decision ? ` · ${r.decision.number}` : '')))),
      h('p', {}, h('a', { href: '#/revocations' }, `${t('rv.title')} →`))));
}

// Progress against targets of one province (or district, or VN).
function progressView(route) {
  const code = route.arg || localStorage.getItem('ntm.progress') || '';
  const series = route.params.get('series') || '';
  let provinces = null;
  return dataView({
    controls() {
      const sel = h('select', { id: 'pr-unit', onchange: () => { localStorage.setItem('ntm.progress', sel.value); go('progress', sel.value); } });
      sel.append(h('option', { value: 'VN', selected: code === 'VN' }, t('kind', 'country')));
      (async () => {
        provinces = provinces || await api('/v1/units?kind=province&limit=1000');
        for (const p of provinces.units) {
          sel.append(h('option', { value: p.unit, selected: p.unit === code }, `${p.name} (${p.unit})${p.dissolved_on ? ` · ${t('pr.dissolved')}` : ''}`));
        }
        if (!code && provinces.units.length) go('progress', provinces.units[0].unit);
      })().catch(() => {});
      return h('div', {}, h('h1', {}, t('pr.title')), h('div', { class: 'controls' }, field(t('pr.province'), sel)));
    },
    async load() {
      if (!code) return h('p', { class: 'muted' }, t('loading'));
      const rep = await api(`/v1/progress/${encodeURIComponent(code)}`);
      return renderProgress(rep, series);
    },
    wants: (m) => m.view === 'targets' || m.view === 'status',
  });
}

function renderProgress(rep, series) {
  const keys = [];
  for (const y of rep.years) for (const r of y.tiers) { const k = `${r.level}:${r.tier}`; if (!keys.includes(k)) keys.push(k); }
  if (keys.length === 0) return [h('h2', {}, rep.name), h('p', { class: 'muted' }, t('pr.noData'))];
  // Default: the first series with a target, else communes reaching NTM.
  const targeted = keys.find((k) => rep.years.some((y) => y.tiers.some((r) => `${r.level}:${r.tier}` === k && r.target)));
  const key = keys.includes(series) ? series : (targeted || (keys.includes('commune:ntm') ? 'commune:ntm' : keys[0]));
  const [level, tier] = key.split(':');
  const sel = h('select', { id: 'pr-series', onchange: () => go('progress', rep.unit, { series: sel.value }) },
    keys.map((k) => { const [l, ti] = k.split(':'); return h('option', { value: k, selected: k === key }, `${t('kind', l)} · ${t('tier', ti)}`); }));
  const rows = rep.years.map((y) => ({ year: y.year, row: y.tiers.find((r) => r.level === level && r.tier === tier) }));
  // A row may count several tiers as one (a town's "completed" with the
  // districts' "ntm"): say which.
  const counts = rows.map(({ row }) => row?.counts).find((c) => c && c.length > 1);
  while (rows.length > 1 && !rows[0].row) rows.shift(); // years before the series begins
  const body = rows.map(({ year, row }) => {
    const r = row || {};
    const tg = r.target || {};
    return h('tr', {},
      h('th', { scope: 'row' }, String(year)),
      h('td', { class: 'num' }, tg.count ?? t('none')),
      h('td', { class: 'num' }, r.achieved ?? 0),
      h('td', { class: 'num' }, r.granted ?? 0),
      h('td', { class: 'num' }, r.revoked ?? 0),
      h('td', { class: 'num' }, `${fmtNum(r.cumulative ?? 0)} / ${fmtNum(r.units ?? 0)}`),
      h('td', { class: 'num' }, fmtPct(r.percent ?? 0)),
      h('td', { class: 'num' }, tg.cumulative_percent !== undefined ? fmtPct(tg.cumulative_percent) : t('none')),
      h('td', {}, r.on_track === undefined ? t('none') : (r.on_track ? t('pr.yes') : h('span', { class: 'risk' }, t('pr.no')))));
  });
  return [
    h('h2', {}, `${rep.name} (${rep.unit})`),
    h('div', { class: 'controls' }, field(t('pr.series'), sel)),
    counts ? h('p', { class: 'muted', id: 'pr-counts' }, `${t('pr.counts')}: ${counts.map((ti) => t('tier', ti)).join(', ')}`) : null,
    h('section', { class: 'card' }, progressChart(rows)),
    table([[t('pr.year')], [t('pr.target'), 'num'], [t('pr.achieved'), 'num'], [t('pr.granted'), 'num'], [t('pr.revoked'), 'num'],
      [t('pr.cumulative'), 'num'], [t('pr.percent'), 'num'], [t('pr.targetPct'), 'num'], [t('pr.onTrack')]], body, { id: 'progress' }),
  ];
}

// progressChart draws, per year, the target count (outlined bar) beside
// the units achieved (filled bar) on the left axis, and the cumulative
// percent (line) with target percents (diamonds) on the right axis.
function progressChart(rows) {
  const W = 900, H = 280, L = 44, R = 44, T = 16, B = 40;
  const iw = W - L - R, ih = H - T - B;
  const maxN = Math.max(1, ...rows.map(({ row }) => Math.max(row?.achieved || 0, row?.target?.count || 0)));
  const step = niceStep(maxN);
  const top = Math.ceil(maxN / step) * step;
  const band = iw / Math.max(1, rows.length);
  const bw = Math.min(28, band / 3);
  const y = (n) => T + ih - (n / top) * ih;
  const yp = (p) => T + ih - (p / 100) * ih;
  const g = [];
  for (let v = 0; v <= top; v += step) {
    g.push(s('line', { class: 'gridline', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    g.push(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtNum(v)));
  }
  for (let p = 0; p <= 100; p += 25) g.push(s('text', { x: W - R + 6, y: yp(p) + 4 }, `${p}%`));
  const pts = [];
  rows.forEach(({ year, row }, i) => {
    const cx = L + band * i + band / 2;
    const r = row || {};
    if (r.target?.count !== undefined) {
      g.push(s('rect', { x: cx - bw - 2, y: y(r.target.count), width: bw, height: Math.max(0, y(0) - y(r.target.count)), fill: '#fff', stroke: '#4a5260', 'stroke-width': 1.5, 'stroke-dasharray': '4 2' },
        s('title', {}, `${year} · ${t('pr.target')}: ${r.target.count}`)));
    }
    const a = Math.max(0, r.achieved || 0);
    g.push(s('rect', { x: cx + 2, y: y(a), width: bw, height: Math.max(0, y(0) - y(a)), fill: '#2e7d32' },
      s('title', {}, `${year} · ${t('pr.achieved')}: ${r.achieved || 0}`)));
    g.push(s('text', { x: cx, y: H - B + 16, 'text-anchor': 'middle' }, String(year)));
    // A year with no units of the level (all reorganized away) has no
    // meaningful percent: the line stops there.
    if (r.units > 0) pts.push([cx, yp(r.percent || 0), r.percent || 0, year]);
    if (r.target?.cumulative_percent !== undefined) {
      const ty = yp(r.target.cumulative_percent);
      g.push(s('path', { d: `M${cx} ${ty - 6}L${cx + 6} ${ty}L${cx} ${ty + 6}L${cx - 6} ${ty}Z`, fill: '#ad5700' },
        s('title', {}, `${year} · ${t('pr.targetPct')}: ${r.target.cumulative_percent}%`)));
    }
  });
  if (pts.length) {
    g.push(s('polyline', { points: pts.map((p) => `${p[0]},${p[1]}`).join(' '), fill: 'none', stroke: '#1565c0', 'stroke-width': 2.5 }));
    for (const [x, yy, p, year] of pts) g.push(s('circle', { cx: x, cy: yy, r: 3.5, fill: '#1565c0' }, s('title', {}, `${year} · ${t('pr.percent')}: ${p}%`)));
  }
  g.push(s('line', { class: 'axis', x1: L, x2: W - R, y1: y(0), y2: y(0) }));
  const legend = [
    ['#fff', '#4a5260', t('pr.target')], ['#2e7d32', null, t('pr.achieved')], ['#1565c0', null, t('pr.percent')], ['#ad5700', null, t('pr.targetPct')],
  ].map(([fill, stroke, label], i) => s('g', { transform: `translate(${L + i * 190},${H - 12})` },
    s('rect', { width: 12, height: 12, y: -10, fill, stroke: stroke || undefined, 'stroke-dasharray': stroke ? '3 2' : undefined }),
    s('text', { x: 16 }, label)));
  return s('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': t('pr.chart'), id: 'progress-chart' },
    s('title', {}, t('pr.chart')), g, legend);
}

function niceStep(max) {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return Math.max(1, m * mag);
  return Math.max(1, 10 * mag);
}

// Communes at risk of revocation, paged.
function atRiskView(route) {
  const province = route.params.get('province') || '';
  let view;
  const pg = pager(() => view.refresh());
  view = dataView({
    controls() {
      const input = h('input', { id: 'ar-province', value: province, size: 10, placeholder: '35' });
      return h('div', {}, h('h1', {}, t('ar.title')),
        h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); go('at-risk', '', { province: input.value.trim() }); } },
          field(t('u.province'), input), h('button', { type: 'submit' }, t('apply'))));
    },
    async load() {
      const list = await api(`/v1/units${qs({ kind: 'commune', at_risk: 'true', province, limit: LIMIT, after: pg.after() })}`);
      pg.next = list.next || '';
      if (list.units.length === 0 && pg.index === 0) return atRiskEmpty(province);
      const rows = list.units.map((u) => {
        const r = u.risk || {};
        return h('tr', {},
          h('td', {}, unitLink(u.unit, u.name)),
          h('td', {}, u.province),
          h('td', {}, tierBadge(u.tier)),
          h('td', {}, lang === 'vi' ? (r.rule_vi || r.rule) : r.rule, r.id ? h('div', { class: 'muted' }, r.id) : null),
          h('td', {}, r.basis || ''),
          h('td', {}, (r.failing || []).map((c) => h('span', { class: (r.key_failing || []).includes(c) ? 'key' : '' }, `${c} `))),
          h('td', {}, lang === 'vi' ? (r.message_vi || r.message) : r.message));
      });
      return [table([[t('un.name')], [t('u.province')], [t('un.tier')], [t('ar.rule')], [t('ar.basis')], [t('ar.failing')], [t('ar.message')]], rows, { id: 'at-risk' }),
        pg.controls(list.units.length)];
    },
    wants: (m) => m.view === 'status' && pg.index === 0,
  });
  return view;
}

// OPEN_LIST caps the dissolved units listed under an empty at-risk view.
const OPEN_LIST = 50;

// atRiskEmpty says why no commune is at risk and lists the units whose
// overdue revocation case was still open when they were dissolved (the
// findings ended by dissolution), each linking to its unit page.
async function atRiskEmpty(province) {
  const found = await api(`/v1/findings${qs({ province })}`);
  const open = (found.findings || []).filter((f) => f.audit?.ended_by === 'dissolution');
  const shown = open.slice(0, OPEN_LIST);
  const unitNames = await Promise.all(shown.map((f) => unitName(f.unit)));
  const items = shown.map((f, i) => {
    const a = f.audit;
    return h('li', { 'data-unit': f.unit },
      h('div', {}, unitLink(f.unit, unitNames[i]), ' · ', h('span', { class: 'muted' }, f.province), ' · ',
        h('span', { class: 'risk' }, a.rule || ''), ` · ${a.basis || ''} · ${t('ar.dissolvedOn')} ${fmtDate(a.until)}`),
      h('div', { class: 'detail' }, `${t('ar.failing')}: `, failingList(a.failing, a.key_failing)));
  });
  return [
    h('div', { class: 'notice', id: 'ar-empty', role: 'status' }, h('p', {}, h('strong', {}, t('ar.empty'))), h('p', {}, t('ar.why'))),
    items.length ? h('section', { class: 'card', 'aria-labelledby': 'ar-open-title' },
      h('h2', { id: 'ar-open-title' }, t('ar.open')),
      h('ul', { class: 'plain', id: 'ar-open' }, items),
      open.length > OPEN_LIST ? h('p', { class: 'muted' }, `${t('ar.more')} ${fmtNum(open.length - OPEN_LIST)}`) : null) : null,
  ];
}

// failingList shows criterion codes, key criteria marked with a star.
function failingList(failing, key) {
  return (failing || []).map((c) => (key || []).includes(c)
    ? h('span', { class: 'key', title: 'key' }, `${c}★ `)
    : `${c} `);
}

// The revocation timeline, newest first, filtered and paged.
function revocationsView(route) {
  const f = { province: route.params.get('province') || '', from: route.params.get('from') || '', to: route.params.get('to') || '', reason: route.params.get('reason') || '' };
  let view;
  const pg = pager(() => view.refresh());
  view = dataView({
    controls() {
      const province = h('input', { id: 'rv-province', value: f.province, size: 10, placeholder: '35' });
      const from = h('input', { type: 'date', id: 'rv-from', value: f.from });
      const to = h('input', { type: 'date', id: 'rv-to', value: f.to });
      const reason = h('select', { id: 'rv-reason' }, h('option', { value: '' }, t('all')),
        Object.keys(TEXT.vi.reason).map((k) => h('option', { value: k, selected: k === f.reason }, t('reason', k))));
      return h('div', {}, h('h1', {}, t('rv.title')),
        h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); go('revocations', '', { province: province.value.trim(), from: from.value, to: to.value, reason: reason.value }); } },
          field(t('u.province'), province), field(t('rv.from'), from), field(t('rv.to'), to), field(t('rv.reason'), reason),
          h('button', { type: 'submit' }, t('apply')),
          h('button', { type: 'button', class: 'secondary', onclick: () => go('revocations', '', {}) }, t('clear'))));
    },
    async load() {
      const list = await api(`/v1/revocations${qs({ ...f, limit: LIMIT, after: pg.after() })}`);
      pg.next = list.next || '';
      if (list.revocations.length === 0 && pg.index === 0) return h('p', { class: 'muted' }, t('rv.none'));
      const items = list.revocations.map((r) => h('li', {},
        h('div', {}, h('span', { class: 'when' }, fmtDate(r.revoked_on)), ' · ', unitLink(r.unit, r.name), ' ', h('span', { class: 'muted' }, r.province), ' ',
          tierBadge(r.tier), ' ', h('span', { class: 'what' }, t('reason', r.reason))),
        h('div', { class: 'detail' },
          r.decision ? `${t('rv.decision')}: ${r.decision.number} (${fmtDate(r.decision.date)}) ${r.decision.issuer || ''}` : '',
          r.basis ? ` · ${t('ar.basis')}: ${r.basis}` : ''),
        r.ended ? h('div', { class: 'detail' }, `${t('rv.ended')}: ${r.ended.decision ? r.ended.decision.number : ''} ${fmtDate(r.ended.granted_on)} · ${t('rv.held')}: ${fmtNum(r.ended.held_days)} ${t('rv.days')}`) : null,
        (r.also_ended || []).length ? h('div', { class: 'detail' }, `${t('rv.also')}: `, r.also_ended.map((e) => [tierBadge(e.tier), ` ${fmtDate(e.granted_on)} `])) : null));
      return [h('ol', { class: 'timeline rev', id: 'revocations' }, items), pg.controls(list.revocations.length)];
    },
    wants: (m) => m.view === 'revocations' && pg.index === 0,
  });
  return view;
}

// Any list of units (10,000 communes page by page through limit/after).
function unitsView(route) {
  const f = { province: route.params.get('province') || '', parent: route.params.get('parent') || '', kind: route.params.get('kind') || 'commune', tier: route.params.get('tier') || '' };
  let view;
  const pg = pager(() => view.refresh());
  view = dataView({
    controls() {
      const province = h('input', { id: 'un-province', value: f.province, size: 10, placeholder: '35' });
      const kind = h('select', { id: 'un-kind' }, h('option', { value: '' }, t('all')),
        ['province', 'district', 'commune', 'village'].map((k) => h('option', { value: k, selected: k === f.kind }, t('kind', k))));
      const tier = h('select', { id: 'un-tier' }, h('option', { value: '' }, t('all')),
        ['none', ...TIERS].map((k) => h('option', { value: k, selected: k === f.tier }, t('tier', k))));
      return h('div', {}, h('h1', {}, t('un.title'), f.parent ? ` · ${t('un.parent')} ${f.parent}` : ''),
        h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); go('units', '', { province: province.value.trim(), parent: f.parent, kind: kind.value, tier: tier.value }); } },
          field(t('u.province'), province), field(t('un.kind'), kind), field(t('un.tier'), tier), h('button', { type: 'submit' }, t('apply'))));
    },
    async load() {
      const list = await api(`/v1/units${qs({ ...f, limit: LIMIT, after: pg.after() })}`);
      pg.next = list.next || '';
      if (list.units.length === 0 && pg.index === 0) return h('p', { class: 'muted' }, t('un.none'));
      const rows = list.units.map((u) => {
        const cs = u.criteria || {};
        const crit = Object.entries(cs).map(([ti, c]) => `${t('tier', ti)} ${c.met}/${c.total}`).join(' · ');
        return h('tr', {},
          h('td', {}, h('a', { href: `#/unit/${encodeURIComponent(u.unit)}` }, u.unit)),
          h('td', {}, u.name, u.dissolved_on ? h('div', { class: 'muted' }, `${t('u.dissolvedInto')} ${(u.dissolved_into || []).join(', ')} (${fmtDate(u.dissolved_on)})`) : null),
          h('td', {}, t('kind', u.kind)),
          h('td', {}, u.parent ? h('a', { href: `#/unit/${encodeURIComponent(u.parent)}` }, u.parent) : ''),
          h('td', {}, tierBadge(u.tier)),
          h('td', { class: 'num' }, fmtDate(u.granted_on)),
          h('td', {}, crit),
          h('td', {}, u.at_risk ? h('span', { class: 'risk' }, '⚠ ', u.risk?.id || '') : ''));
      });
      return [table([[t('un.code')], [t('un.name')], [t('un.kind')], [t('un.parent')], [t('un.tier')], [t('un.granted'), 'num'], [t('un.criteria')], [t('un.atRisk')]], rows, { id: 'units' }),
        pg.controls(list.units.length)];
    },
    wants: (m) => m.view === 'status' && pg.index === 0,
  });
  return view;
}

// One unit: status (as of a date, as known at a time), criteria grid,
// history.
function unitView(route) {
  const code = route.arg;
  const asOf = route.params.get('as_of') || '';
  const knownAt = route.params.get('known_at') || '';
  const lineage = route.params.get('lineage') === 'true';
  const full = route.params.get('full') === 'true';
  return dataView({
    controls() {
      const d = h('input', { type: 'date', id: 'u-asof', value: asOf });
      const k = h('input', { type: 'datetime-local', id: 'u-knownat', step: 1, value: knownAt ? toLocalInput(knownAt) : '' });
      return [h('h1', { id: 'unit-title' }, code), h('form', { class: 'controls', onsubmit: (e) => {
        e.preventDefault();
        go('unit', code, { as_of: d.value, known_at: k.value ? new Date(k.value).toISOString() : '', lineage: lineage ? 'true' : '' });
      } },
      field(t('u.asOf'), d), field(t('u.knownAt'), k),
      h('button', { type: 'submit', id: 'u-apply' }, t('apply')),
      (asOf || knownAt) ? h('button', { type: 'button', class: 'secondary', onclick: () => go('unit', code, {}) }, t('now')) : null)];
    },
    async load() {
      let st;
      try {
        st = await api(`/v1/units/${encodeURIComponent(code)}${qs({ as_of: asOf, known_at: knownAt })}`);
      } catch (e) {
        if (e.status === 404) return h('p', { class: 'error' }, `${t('u.notFound')}: ${code}`);
        throw e;
      }
      // The newest page of a long trail, unless the whole one is asked for.
      const page = lineage || full ? {} : { limit: HISTORY_PAGE, before: '18446744073709551615' };
      const hist = await api(`/v1/units/${encodeURIComponent(code)}/history${qs({ lineage: lineage ? 'true' : '', ...page })}`);
      return renderUnit(st, hist, { asOf, knownAt, lineage });
    },
    wants: (m) => m.unit === code && !knownAt,
  });
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function renderUnit(st, hist, opts) {
  const links = (codes) => (codes || []).map((c, i) => [i ? ', ' : '', unitLink(c)]);
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, t('un.kind')), h('dd', {}, t('kind', st.kind), st.subkind ? ` (${st.subkind})` : ''),
    h('dt', {}, t('u.tier')), h('dd', { id: 'u-tier' }, tierBadge(st.tier)),
    st.parent ? [h('dt', {}, t('u.parent')), h('dd', {}, unitLink(st.parent))] : null,
    st.province && st.province !== st.unit ? [h('dt', {}, t('u.province')), h('dd', {}, unitLink(st.province))] : null,
    h('dt', {}, t('u.rulebook')), h('dd', {}, st.rulebook || t('none')),
    st.evaluated_on ? [h('dt', {}, t('u.evaluatedOn')), h('dd', {}, fmtDate(st.evaluated_on))] : null,
    st.satisfaction ? [h('dt', {}, t('u.satisfaction')), h('dd', {}, `${fmtPct(st.satisfaction.percent)} (${fmtNum(st.satisfaction.respondents)} ${t('u.respondents')})`)] : null,
    (st.eligible || []).length ? [h('dt', {}, t('u.eligible')), h('dd', {}, st.eligible.map(tierBadge))] : null,
    (st.dissolved_into || []).length ? [h('dt', {}, t('u.dissolvedInto')), h('dd', { id: 'u-dissolved-into' }, links(st.dissolved_into), st.dissolved ? ` (${fmtDate(st.dissolved.effective)}${st.dissolved.resolution ? `, ${st.dissolved.resolution}` : ''})` : '')] : null,
    (st.formed_from || []).length ? [h('dt', {}, t('u.formedFrom')), h('dd', {}, links(st.formed_from))] : null,
    h('dt', {}, t('u.version')), h('dd', {}, `${st.version} · seq ${fmtNum(st.as_of_seq)}`),
    st.kind !== 'commune' && st.kind !== 'village' ? [h('dt', {}, t('u.children')), h('dd', { id: 'u-children' },
      Object.entries(st.children || {}).map(([kind, cc]) => h('div', { 'data-kind': kind }, childCounts(kind, cc))),
      h('a', { href: `#/units${qs({ parent: st.unit, kind: '' })}` }, t('un.title')))] : null);
  const recs = (st.recognitions || []).map((r) => h('li', {}, tierBadge(r.tier), ' ', fmtDate(r.granted_on), r.decision ? ` · ${r.decision.number} · ${r.decision.issuer || ''}` : ''));
  const risks = (st.risks && st.risks.length ? st.risks : (st.risk ? [st.risk] : []));
  const open = st.risks_open_when_dissolved || [];
  const riskItem = (r) => h('div', { class: 'notice' },
    h('div', { class: 'risk' }, ruleText(r)),
    h('div', {}, lang === 'vi' ? (r.message_vi || r.message) : r.message),
    h('div', { class: 'muted' }, `${t('ar.basis')}: ${r.basis} · ${t('ar.failing')}: `, failingList(r.failing, r.key_failing)));
  const riskBox = h('section', { class: 'card', 'aria-labelledby': 'risk-title' }, h('h2', { id: 'risk-title' }, t('u.risk')),
    risks.length === 0 && open.length === 0 ? h('p', { class: 'muted' }, t('u.noRisk')) : risks.map(riskItem),
    open.length ? h('div', { id: 'u-risks-open' },
      h('h3', {}, t('u.risksOpen'), st.dissolved ? ` (${t('ar.dissolvedOn')} ${fmtDate(st.dissolved.effective)})` : ''),
      h('p', { class: 'muted' }, t('u.risksOpenNote')),
      open.map(riskItem)) : null);
  const title = document.getElementById('unit-title');
  if (title) {
    title.replaceChildren(`${st.name} `, h('span', { class: 'muted' }, st.unit));
    if (st.dissolved) append(title, ' ', h('span', { class: 'badge dissolved', id: 'u-dissolved' }, `⊘ ${t('u.dissolved')} ${fmtDate(st.dissolved.effective)}`));
  }
  document.title = `${st.name} · ${t('title')}`;
  return [
    h('div', { class: 'two' },
      h('div', {},
        h('section', { class: 'card' }, facts,
          recs.length ? [h('h2', {}, t('u.recognitions')), h('ul', {}, recs)] : null),
        riskBox,
        h('section', { class: 'card', 'aria-labelledby': 'crit-title' }, h('h2', { id: 'crit-title' }, t('u.criteria')), criteriaGrid(st))),
      h('section', { class: 'card', 'aria-labelledby': 'hist-title' },
        h('h2', { id: 'hist-title' }, t('u.history'), ' ',
          (st.formed_from || []).length ? h('a', { href: `#/unit/${encodeURIComponent(st.unit)}${qs({ as_of: opts.asOf, known_at: opts.knownAt, lineage: opts.lineage ? '' : 'true' })}`, class: 'muted' }, opts.lineage ? '✓ ' : '', t('u.lineage')) : null),
        historyTimeline(hist))),
  ];
}

// ruleText is a risk's rule in the page language, led by its id.
function ruleText(r) {
  const rule = (lang === 'vi' ? (r.rule_vi || r.rule) : r.rule) || '';
  return rule.startsWith(`${r.id}:`) ? rule : `${r.id} · ${rule}`;
}

// childCounts says how many units of a kind a unit has and the tiers they
// hold; units the programme does not grade and units dissolved are counted
// apart.
function childCounts(kind, cc) {
  const held = TIERS.filter((ti) => cc.held?.[ti]).map((ti) => `${t('tier', ti)} ${fmtNum(cc.held[ti])}`);
  const parts = [`${t('kind', kind)}: ${fmtNum(cc.total)}`];
  if (held.length) parts.push(`${t('u.held')} ${held.join(', ')}`);
  if (cc.revoked) parts.push(`${fmtNum(cc.revoked)} ${t('u.revoked')}`);
  if (cc.ungraded) parts.push(`${fmtNum(cc.ungraded)} ${t('u.ungraded', kind)}`);
  if (cc.dissolved) parts.push(`${fmtNum(cc.dissolved)} ${t('u.childDissolved')}`);
  return parts.join(' · ');
}

// criteriaGrid: criteria down, tiers across, each cell coloured by status
// with its stage and date.
function criteriaGrid(st) {
  const rank = (ti) => (TIERS.includes(ti) ? TIERS.indexOf(ti) : TIERS.length);
  const tiers = Object.keys(st.criteria || {}).sort((a, b) => rank(a) - rank(b));
  if (tiers.length === 0) return h('p', { class: 'muted' }, t('u.noCriteria'));
  const codes = new Set();
  const standing = {};
  for (const ti of tiers) {
    const set = st.criteria[ti];
    standing[ti] = {};
    for (const sd of set.standing || []) { codes.add(sd.code); standing[ti][sd.code] = sd; }
    for (const c of Object.keys(set.items || {})) if (!c.includes('.')) codes.add(c);
  }
  const sorted = [...codes].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const head = h('tr', {}, h('th', { scope: 'col' }, t('u.criterion')),
    tiers.map((ti) => h('th', { scope: 'col' }, tierBadge(ti), ` ${st.criteria[ti].met}/${st.criteria[ti].total} ${t('u.met')}`)));
  const rows = sorted.map((code) => h('tr', {},
    h('th', { scope: 'row' }, code, tiers.some((ti) => standing[ti][code]?.key) ? h('span', { class: 'key', title: 'key' }, ' ★') : null),
    tiers.map((ti) => {
      const sd = standing[ti][code];
      const item = (st.criteria[ti].items || {})[code];
      if (!sd && !item) return h('td', {}, '');
      const status = item?.status || sd?.status || '';
      const cls = status || 'none';
      return h('td', { class: `cell ${cls}`, 'data-criterion': code, 'data-tier': ti, 'data-status': status },
        h('span', { class: 's' }, `${STATUS_MARK[status] || ''} ${t('status', status)}`),
        item ? h('div', {}, `${t('stage', item.stage)} · ${fmtDate(item.date)}`) : (sd?.date ? h('div', {}, fmtDate(sd.date)) : null),
        item && item.value !== undefined ? h('div', {}, String(item.value)) : null);
    })));
  return h('div', { class: 'crit-wrap' }, h('table', { class: 'crit', id: 'criteria' }, h('thead', {}, head), h('tbody', {}, rows)));
}

function historyTimeline(hist) {
  const items = [...hist.events].reverse().map((e) => {
    const d = e.data || {};
    const detail = [];
    if (e.type === 'criterion.assessed') detail.push(`${t('tier', d.tier)} · ${t('u.criterion')} ${d.criterion}: ${t('status', d.status)} (${t('stage', d.stage)})${d.value !== undefined ? ` = ${d.value}` : ''}`);
    if (e.type === 'recognition.granted' || e.type === 'recognition.requested') detail.push(t('tier', d.tier));
    if (e.type === 'recognition.revoked') detail.push(`${t('tier', d.tier)} · ${t('reason', d.reason)} · ${d.basis || ''}`);
    if (e.type === 'target.set') detail.push(`${d.year} · ${t('kind', d.level)} · ${t('tier', d.tier)}${d.count !== undefined ? ` · ${d.count}` : ''}${d.cumulative_percent !== undefined ? ` · ${d.cumulative_percent}%` : ''}`);
    if (e.type === 'satisfaction.surveyed') detail.push(`${d.percent}% · ${d.respondents} ${t('u.respondents')}`);
    if (e.type === 'unit.registered') detail.push(`${d.name} · ${t('kind', d.kind)}`);
    if (e.type === 'unit.reorganized') detail.push(`${(d.from || []).join(', ')} · ${d.resolution || ''}`);
    if (e.type === 'entry.retracted') detail.push(`${d.target} · ${d.reason || ''}`);
    if (e.document) detail.push(`${e.document.number} (${fmtDate(e.document.date)}) ${e.document.issuer || ''}`);
    return h('li', { class: e.retracted ? 'retracted' : '', 'data-seq': e.seq },
      h('div', {}, h('span', { class: 'when' }, fmtDate(e.occurred_at)), ' · ', h('span', { class: 'what' }, t('type', e.type)),
        e.unit !== hist.unit ? [' · ', unitLink(e.unit)] : null, e.retracted ? ` (${t('u.retracted')})` : ''),
      detail.map((x) => h('div', { class: 'detail' }, x)),
      h('div', { class: 'detail' }, `v${e.version} · seq ${e.seq} · ${t('u.recorded')} ${fmtDateTime(e.recorded_at)} · ${e.actor?.name || e.actor?.id || ''}`));
  });
  if (hist.more) {
    items.push(h('li', { id: 'history-older' }, h('a', { href: `#/unit/${encodeURIComponent(hist.unit)}?full=true` }, t('u.older'))));
  }
  return h('div', { class: 'scroll' }, h('ol', { class: 'timeline', id: 'history' }, items));
}

// HISTORY_PAGE is how many of a unit's newest events its page shows first.
const HISTORY_PAGE = 200;

const VIEWS = {
  overview: overviewView,
  progress: progressView,
  'at-risk': atRiskView,
  revocations: revocationsView,
  units: unitsView,
  unit: unitView,
};

// ---------------------------------------------------------------- live

const FEED_MAX = 30;
const FEED_TYPES = new Set(['recognition.granted', 'recognition.revoked', 'criterion.assessed', 'recognition.requested', 'satisfaction.surveyed', 'entry.retracted']);
const feed = []; // newest first: { seq, type, unit, province, at, fresh }
const names = new Map(); // unit → name, or a promise while fetching
let feedList = null;

function liveFeedCard() {
  feedList = h('ul', { class: 'feed', id: 'live-feed', 'aria-live': 'off' });
  renderFeed();
  return h('section', { class: 'card' }, h('h2', { id: 'feed-title' }, t('live.feed')), feedList);
}

function kindClass(type) {
  if (type === 'recognition.granted') return 'granted';
  if (type === 'recognition.revoked') return 'revoked';
  return 'assessed';
}

function renderFeed() {
  if (!feedList) return;
  if (feed.length === 0) {
    feedList.replaceChildren(h('li', { class: 'muted' }, t('live.empty')));
    return;
  }
  feedList.replaceChildren(...feed.map((e) => {
    const name = typeof names.get(e.unit) === 'string' ? names.get(e.unit) : '';
    const li = h('li', { class: e.fresh ? 'fresh-entry' : '', 'data-seq': e.seq, 'data-type': e.type, 'data-unit': e.unit },
      h('span', { class: `k ${kindClass(e.type)}` }, t('type', e.type)),
      h('span', {}, unitLink(e.unit, name)),
      h('span', { class: 'meta' }, `seq ${fmtNum(e.seq)} · ${fmtDateTime(e.at)}`));
    e.fresh = false;
    return li;
  }));
  for (const e of feed) lookupName(e.unit);
}

// unitName resolves to a unit's name ('' when unknown), read once per page.
async function unitName(unit) {
  lookupName(unit);
  await names.get(unit);
  const n = names.get(unit);
  return typeof n === 'string' ? n : '';
}

function lookupName(unit) {
  if (names.has(unit)) return;
  names.set(unit, fetch(`/v1/units/${encodeURIComponent(unit)}`)
    .then((r) => (r.ok ? r.json() : {}))
    .then((b) => { names.set(unit, b.name || ''); scheduleFeed(); })
    .catch(() => names.delete(unit)));
}

let feedTimer = 0;
function scheduleFeed() {
  if (feedTimer) return;
  feedTimer = setTimeout(() => { feedTimer = 0; renderFeed(); }, 200);
}

let refreshTimer = 0;
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = 0;
    if (current) current.view.refresh();
  }, 800);
}

function onChange(m) {
  seen(m.as_of_seq);
  if (m.view === 'resync') { scheduleRefresh(); return; }
  if (m.view === 'history' && FEED_TYPES.has(m.type)) {
    feed.unshift({ seq: m.as_of_seq, type: m.type, unit: m.unit, province: m.province, at: new Date().toISOString(), fresh: true });
    feed.length = Math.min(feed.length, FEED_MAX);
    scheduleFeed();
  }
  if (current && current.view.wants(m)) scheduleRefresh();
}

function connect() {
  const dot = document.getElementById('live-dot');
  const state = document.getElementById('live-state');
  const es = new EventSource('/v1/live');
  const set = (cls, key) => { dot.className = `dot ${cls}`; state.dataset.i18n = key; state.textContent = t(key); };
  es.addEventListener('open', () => set('on', 'live.on'));
  es.addEventListener('hello', (ev) => {
    set('on', 'live.on');
    const hello = JSON.parse(ev.data);
    if (hello.as_of_seq > lastSeq) { seen(hello.as_of_seq); scheduleRefresh(); }
  });
  es.addEventListener('message', (ev) => {
    try { onChange(JSON.parse(ev.data)); } catch { /* not a change */ }
  });
  es.addEventListener('error', () => set('off', 'live.off')); // EventSource reconnects by itself
}

// ---------------------------------------------------------------- chrome

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  const btn = document.getElementById('lang');
  btn.textContent = lang === 'vi' ? 'EN' : 'VI';
  btn.setAttribute('aria-label', t('lang.switch'));
  const seqEl = document.getElementById('seq');
  if (lastSeq) seqEl.textContent = fmtNum(lastSeq);
}

function start() {
  applyLanguage();
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('ntm.lang', lang);
    applyLanguage();
    mount();
  });
  document.getElementById('goto').addEventListener('submit', (e) => {
    e.preventDefault();
    const code = document.getElementById('goto-code').value.trim();
    if (code) go('unit', code);
  });
  window.addEventListener('hashchange', () => { mount(); document.getElementById('main').focus({ preventScroll: true }); });
  mount();
  connect();
}

start();
