// dotm console: progress, review, map and team tasks of a survey round,
// each through the API at /api/v1 with the user's token. No framework, no
// build step; the API's role and scope checks are the console's.
'use strict';

const API = '/api/v1';
const S = {
  token: sessionStorage.getItem('dotm.console.token') || '',
  me: null, surveys: [], survey: '', tab: 'progress', lang: '',
  progress: null, queue: [], current: -1, sub: null, forms: {}, identifiers: false,
};

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

// el makes an element: el('td', {class: 'n'}, 'text', child…).
function el(tag, attrs, ...kids) {
  const svg = ['svg', 'circle', 'rect', 'g', 'title', 'text', 'line'].includes(tag);
  const e = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function toast(msg, bad) {
  const t = $('#toast');
  t.textContent = msg;
  t.className = bad ? 'bad show' : 'show';
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ''; }, 6000);
}

// api calls the API; a problem answer becomes an Error with its detail and
// problems.
async function api(path, opts) {
  opts = opts || {};
  const headers = { Authorization: 'Bearer ' + S.token };
  let body = opts.body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  } else if (opts.ctype) {
    headers['Content-Type'] = opts.ctype;
  }
  const res = await fetch(API + path, { method: opts.method || 'GET', headers, body });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const err = new Error((data && (data.detail || data.title)) || ('HTTP ' + res.status));
    err.status = res.status;
    err.problems = (data && data.problems) || [];
    throw err;
  }
  return data;
}

function fail(e) {
  const more = (e.problems || []).slice(0, 3).map((p) => p.path + ': ' + p.message).join('; ');
  toast(e.message + (more ? ' — ' + more : ''), true);
}

const fmt = {
  n: (x) => (x === undefined || x === null ? '' : Number(x).toLocaleString('en')),
  pct: (x) => (x === undefined || x === null ? '' : (100 * x).toFixed(1) + '%'),
  min: (x) => (x ? x.toFixed(0) + ' min' : ''),
};
const CLASSES = ['current_migrant', 'return_migrant', 'non_migrant'];
const CLASS_LABEL = { current_migrant: 'Current migrant', return_migrant: 'Return migrant', non_migrant: 'Non-migrant' };
const FLAG_LABEL = {
  short: 'too short', gps_far: 'GPS far from EA', duplicate_answers: 'same answers as another household',
  duplicate_respondent: 'same respondent as another household', duplicate_phone: 'same phone as another household',
  straight_lining: 'straight-lining', age_heaping: 'age heaping', amount_heaping: 'round amounts',
  duration_outlier: 'duration outlier', refusal_outlier: 'refusal outlier',
};
const flagBadges = (flags) => (flags || []).map((f) => el('span', { class: 'flag', title: FLAG_LABEL[f] || f, dataset: { flag: f } }, FLAG_LABEL[f] || f));

const role = () => (S.me ? S.me.role : '');
const tabsFor = (r) => ({
  supervisor: ['progress', 'review', 'map'], statistician: ['progress', 'team'], admin: ['progress', 'team'],
}[r] || []);

// ---------------------------------------------------------------- sign-in

async function signIn(token) {
  S.token = token;
  try {
    S.me = await api('/me');
  } catch (e) {
    S.token = '';
    sessionStorage.removeItem('dotm.console.token');
    $('#signin-error').textContent = e.status === 401 ? 'This token is not valid (or was revoked).' : e.message;
    return;
  }
  if (tabsFor(S.me.role).length === 0) {
    $('#signin-error').textContent = 'The console is for supervisors, statisticians and survey managers; ' + S.me.role + 's use the ' + (S.me.role === 'enumerator' ? 'web client at /collect/.' : 'releases API.');
    S.token = '';
    return;
  }
  sessionStorage.setItem('dotm.console.token', token);
  const list = await api('/surveys');
  S.surveys = list.surveys || [];
  const sel = $('#survey');
  sel.replaceChildren(...S.surveys.map((s) => el('option', { value: s.id }, s.id + (s.title ? ' — ' + s.title : ''))));
  sel.hidden = false;
  S.survey = (S.surveys[0] || {}).id || '';
  $('#who').textContent = S.me.name + ' · ' + S.me.role;
  $('#signout').hidden = false;
  $('#tabs').hidden = false;
  for (const b of $$('#tabs button')) b.hidden = !tabsFor(S.me.role).includes(b.dataset.tab);
  show('progress');
}

function signOut() {
  sessionStorage.removeItem('dotm.console.token');
  location.reload();
}

function show(tab) {
  S.tab = tab;
  for (const b of $$('#tabs button')) b.classList.toggle('current', b.dataset.tab === tab);
  const views = { progress: viewProgress, review: viewReview, map: viewMap, team: viewTeam };
  views[tab]().catch(fail);
}

// ---------------------------------------------------------------- progress

function countsRow(key, c) {
  return [
    el('th', { scope: 'row' }, key), el('td', {}, fmt.n(c.listed)), el('td', {}, fmt.n(c.selected)), el('td', {}, fmt.n(c.assigned)),
    el('td', {}, fmt.n(c.interviewed)), el('td', {}, fmt.n(c.refused)), el('td', {}, fmt.n(c.pending_review)), el('td', {}, fmt.n(c.returned)),
    el('td', {}, fmt.n(c.approved)), el('td', { class: c.flagged ? 'warn' : '' }, fmt.n(c.flagged)),
    el('td', {}, fmt.pct(c.response_rate_rr1)), el('td', {}, fmt.pct(c.screening_rate)), el('td', {}, fmt.n(c.days_in_field)),
  ];
}
const countsHead = (first) => el('tr', {}, [first, 'Listed', 'Selected', 'Assigned', 'Interviewed', 'Refused', 'To review', 'Returned', 'Approved', 'Flagged', 'RR1', 'Screened', 'Days'].map((h) => el('th', { scope: 'col' }, h)));

async function viewProgress() {
  const p = await api('/surveys/' + encodeURIComponent(S.survey) + '/progress');
  S.progress = p;
  const t = p.total;
  const card = (key, label, value) => el('div', { class: 'stat', dataset: { total: key } }, el('b', {}, value), el('span', {}, label));
  const cards = el('div', { class: 'stats' },
    card('interviewed', 'households interviewed', fmt.n(t.interviewed)),
    card('pending_review', 'waiting for review', fmt.n(t.pending_review)),
    card('approved', 'approved', fmt.n(t.approved)),
    card('returned', 'returned', fmt.n(t.returned)),
    card('refused', 'refused', fmt.n(t.refused)),
    card('flagged', 'flagged', fmt.n(t.flagged)),
    card('response_rate_rr1', 'response rate (RR1)', fmt.pct(t.response_rate_rr1)),
    card('days_in_field', 'days in the field', fmt.n(t.days_in_field)));
  const quota = el('table', { id: 'quotas' }, el('caption', {}, 'Quotas by migrant status'),
    el('tr', {}, ['Status', 'Quota', 'Listed', 'Selected', 'Interviewed', 'Of quota'].map((h) => el('th', { scope: 'col' }, h))),
    CLASSES.map((c) => el('tr', { dataset: { class: c } }, el('th', { scope: 'row' }, CLASS_LABEL[c]), el('td', {}, fmt.n(t.quota_by_class[c] || 0)),
      el('td', {}, fmt.n(t.listed_by_class[c] || 0)), el('td', {}, fmt.n(t.selected_by_class[c] || 0)), el('td', {}, fmt.n(t.interviewed_by_class[c] || 0)),
      el('td', {}, t.quota_by_class[c] ? fmt.pct((t.interviewed_by_class[c] || 0) / t.quota_by_class[c]) : ''))));
  const strata = el('table', { id: 'strata' }, el('caption', {}, 'By stratum'), countsHead('Stratum'),
    p.strata.map((s) => el('tr', { dataset: { stratum: s.stratum } }, countsRow(s.stratum || '(none)', s))));
  const eas = el('table', { id: 'eas' }, el('caption', {}, 'By enumeration area'), countsHead('EA'),
    p.psus.map((s) => el('tr', { dataset: { psu: s.psu } }, countsRow(s.psu || '(no EA)', s))));
  const enums = el('table', { id: 'enumerators' }, el('caption', {}, 'By enumerator'),
    el('tr', {}, ['Enumerator', 'Assigned', 'Interviews', 'Per day', 'Refusals', 'Returned', 'Approved', 'Median', 'Whipple', 'Flags'].map((h) => el('th', { scope: 'col' }, h))),
    p.enumerators.map((e) => el('tr', { dataset: { enumerator: e.enumerator } }, el('th', { scope: 'row' }, e.enumerator), el('td', {}, fmt.n(e.assigned)),
      el('td', {}, fmt.n(e.interviews)), el('td', {}, e.interviews_per_day ? e.interviews_per_day.toFixed(1) : ''), el('td', {}, fmt.n(e.refusals)),
      el('td', {}, fmt.n(e.rejections)), el('td', {}, fmt.n(e.approved)), el('td', {}, fmt.min(e.median_minutes)),
      el('td', {}, e.whipple ? e.whipple.toFixed(0) : ''),
      el('td', {}, flagBadges(e.enumerator_flags), Object.entries(e.flags || {}).map(([f, n]) => el('span', { class: 'flag minor', dataset: { flag: f } }, (FLAG_LABEL[f] || f) + ' ×' + n))))));
  $('#app').replaceChildren(el('section', { id: 'progress' }, el('h1', {}, 'Progress of ' + S.survey), cards,
    el('div', { class: 'scroll' }, quota), el('div', { class: 'scroll' }, strata), el('div', { class: 'scroll' }, enums), el('div', { class: 'scroll' }, eas)));
}

// ---------------------------------------------------------------- review

async function viewReview() {
  const out = await api('/submissions?survey=' + encodeURIComponent(S.survey) + '&status=received&limit=500');
  S.queue = out.submissions || [];
  const list = el('ul', { id: 'queue', tabindex: 0, 'aria-label': 'Submissions waiting for review' },
    S.queue.map((s, i) => el('li', { dataset: { id: s.id, index: i }, onclick: () => openSubmission(i) },
      el('span', { class: 'who' }, s.enumerator), el('span', { class: 'when' }, (s.ended_at || '').slice(0, 16).replace('T', ' ')),
      el('span', { class: 'hh' }, s.assignment_id || s.id.slice(0, 8)), flagBadges(s.flags))));
  const langs = el('select', { id: 'lang', onchange: (ev) => { S.lang = ev.target.value; if (S.sub) renderSubmission(); } });
  $('#app').replaceChildren(el('section', { id: 'review', class: 'split' },
    el('div', { class: 'pane' }, el('h1', {}, 'Waiting for review (' + S.queue.length + (out.next_after ? '+' : '') + ')'),
      el('p', { class: 'keys' }, 'Keys: j/k move · Enter open · i identifiers · a approve · r return'),
      S.queue.length ? list : el('p', {}, 'Nothing waits for review.')),
    el('div', { class: 'pane', id: 'detail' }, el('label', { class: 'sel' }, 'Language ', langs), el('div', { id: 'submission' }))));
  if (S.queue.length) openSubmission(0);
}

async function formOf(id, version) {
  const key = id + '@' + version;
  if (!S.forms[key]) S.forms[key] = await api('/forms/' + encodeURIComponent(id) + '/versions/' + encodeURIComponent(version));
  return S.forms[key];
}

async function openSubmission(i) {
  if (i < 0 || i >= S.queue.length) return;
  S.current = i;
  for (const li of $$('#queue li')) li.classList.toggle('current', Number(li.dataset.index) === i);
  const li = $('#queue li.current');
  if (li) li.scrollIntoView({ block: 'nearest' });
  const item = S.queue[i];
  const q = S.identifiers ? '?include=identifiers' : '';
  const seq = (S.openSeq = (S.openSeq || 0) + 1); // the last one opened wins
  try {
    const sub = await api('/submissions/' + encodeURIComponent(item.id) + q);
    const form = await formOf(sub.form_id, sub.form_version);
    if (seq !== S.openSeq) return;
    S.sub = { sub, form };
    const sel = $('#lang');
    if (sel && !sel.options.length) {
      const langs = (form.languages || []).map((l) => l.code);
      sel.replaceChildren(...langs.map((c) => el('option', { value: c }, c)));
      S.lang = S.lang || (form.settings && form.settings.default_language) || langs[0] || '';
      sel.value = S.lang;
    }
    renderSubmission();
  } catch (e) { fail(e); }
}

function text(t) {
  if (t === undefined || t === null) return '';
  if (typeof t === 'string') return t;
  return t[S.lang] || t[Object.keys(t)[0]] || '';
}

// tree turns the form's rows into nested groups and repeats.
function tree(form) {
  const root = { kind: 'group', children: [] };
  const stack = [root];
  for (const row of form.survey || []) {
    const type = (row.type || '').trim();
    const top = stack[stack.length - 1];
    if (/^begin[ _](group|repeat)$/.test(type)) {
      const node = { kind: type.endsWith('repeat') ? 'repeat' : 'group', name: row.name, label: row.label, children: [] };
      top.children.push(node);
      stack.push(node);
    } else if (/^end[ _](group|repeat)$/.test(type)) {
      if (stack.length > 1) stack.pop();
    } else {
      top.children.push({ kind: 'q', type: type.split(/\s+/)[0], list: type.split(/\s+/)[1], name: row.name, label: row.label, sensitivity: row.sensitivity || top.sensitivity });
    }
  }
  return root;
}

function choiceLabel(form, list, v) {
  const c = (form.choices || []).find((c) => c.list_name === list && c.name === v);
  return c ? text(c.label) || v : v;
}

function answerText(form, q, v) {
  switch (q.type) {
    case 'select_one': case 'select_one_from_file': return choiceLabel(form, q.list, v);
    case 'select_multiple': return (Array.isArray(v) ? v : String(v).split(' ')).map((x) => choiceLabel(form, q.list, x)).join(', ');
    case 'geopoint': return v && typeof v === 'object' ? v.lat.toFixed(5) + ', ' + v.lon.toFixed(5) + (v.accuracy ? ' (±' + v.accuracy + ' m)' : '') : String(v);
    default: return typeof v === 'number' ? v.toLocaleString('en') : String(v);
  }
}

const SKIP = new Set(['note', 'calculate', 'start', 'end', 'today', 'deviceid', 'audit', 'hidden']);

function renderNode(form, node, scope, top, out, withIds) {
  for (const n of node.children) {
    if (n.kind === 'group') {
      const sec = el('section', { class: 'group', dataset: { name: n.name } });
      if (text(n.label)) sec.append(el('h3', {}, text(n.label)));
      if (renderNode(form, n, scope, top, sec, withIds)) out.append(sec);
    } else if (n.kind === 'repeat') {
      const entries = Array.isArray(scope[n.name]) ? scope[n.name] : [];
      entries.forEach((entry, i) => {
        const nameQ = n.children.find((c) => c.kind === 'q' && c.type === 'text' && typeof entry[c.name] === 'string');
        const title = (text(n.label) || n.name) + ' ' + (i + 1) + (nameQ ? ': ' + entry[nameQ.name] : '');
        const sec = el('section', { class: 'repeat', dataset: { name: n.name, index: i } }, el('h3', {}, title));
        renderNode(form, n, entry, top, sec, withIds);
        out.append(sec);
      });
    } else if (!SKIP.has(n.type)) {
      const v = scope[n.name];
      const label = text(n.label).replace(/\$\{(\w+)\}/g, (_, k) => String(scope[k] !== undefined ? scope[k] : top[k] !== undefined ? top[k] : '…'));
      if (v === undefined || v === null || v === '') {
        if (n.sensitivity === 'direct' && !withIds) out.append(el('div', { class: 'qa hidden-id', dataset: { name: n.name } }, el('span', { class: 'q' }, label || n.name), el('span', { class: 'a' }, 'identifier — not shown')));
        continue;
      }
      out.append(el('div', { class: 'qa', dataset: { name: n.name } }, el('span', { class: 'q' }, label || n.name), el('span', { class: 'a' }, answerText(form, n, v))));
    }
  }
  return out.childElementCount > (out.querySelector('h3') ? 1 : 0);
}

function renderSubmission() {
  const { sub, form } = S.sub;
  const body = el('div', { class: 'answers' });
  renderNode(form, tree(form), sub.answers || {}, sub.answers || {}, body, sub.identifiers_included);
  const minutes = (new Date(sub.ended_at) - new Date(sub.started_at)) / 60000;
  const review = el('form', { id: 'decide', class: 'decide', onsubmit: (ev) => ev.preventDefault() },
    el('label', { for: 'comment' }, 'Comment to the enumerator (required to return)'),
    el('textarea', { id: 'comment', rows: 3, maxlength: 2000 }),
    el('div', { class: 'buttons' },
      el('button', { type: 'button', id: 'approve', onclick: () => decide('approve') }, 'Approve (a)'),
      el('button', { type: 'button', id: 'return', class: 'secondary', onclick: () => decide('reject') }, 'Return (r)')));
  $('#submission').replaceChildren(...[
    el('h2', {}, text(form.settings && form.settings.form_title) || sub.form_id),
    el('p', { class: 'meta' }, sub.enumerator + ' · ' + (sub.ended_at || '').slice(0, 16).replace('T', ' ') + ' · ' + minutes.toFixed(0) + ' min · ' + (sub.assignment_id || 'no assignment') + (sub.supersedes ? ' · correction' : '')),
    el('p', { class: 'flags' }, flagBadges(sub.flags)),
    role() === 'supervisor' ? el('button', { type: 'button', id: 'ids', class: 'secondary', onclick: toggleIds },
      sub.identifiers_included ? 'Hide identifiers (i)' : 'Show identifiers — the read is recorded (i)') : null,
    (sub.reviews || []).length ? el('ul', { class: 'reviews' }, sub.reviews.map((r) => el('li', {}, r.decision + ' by ' + r.by + ': ' + (r.comment || '')))) : null,
    body, review].filter(Boolean));
}

function toggleIds() {
  S.identifiers = !S.identifiers;
  openSubmission(S.current);
}

async function decide(decision) {
  if (!S.sub) return;
  const comment = $('#comment').value.trim();
  if (decision === 'reject' && !comment) {
    toast('Say what the enumerator must correct before returning the interview.', true);
    $('#comment').focus();
    return;
  }
  try {
    await api('/submissions/' + encodeURIComponent(S.sub.sub.id) + '/review', { method: 'POST', body: { decision, comment } });
    toast(decision === 'approve' ? 'Approved.' : 'Returned to ' + S.sub.sub.enumerator + '.');
    const at = S.current;
    S.queue.splice(at, 1);
    S.sub = null;
    $('#queue li.current') && $('#queue li.current').remove();
    $$('#queue li').forEach((li, i) => { li.dataset.index = i; });
    if (S.queue.length) openSubmission(Math.min(at, S.queue.length - 1));
    else $('#submission').replaceChildren(el('p', { id: 'empty' }, 'Nothing else waits for review.'));
  } catch (e) { fail(e); }
}

document.addEventListener('keydown', (ev) => {
  if (S.tab !== 'review' || !S.queue.length) return;
  const inField = ['TEXTAREA', 'INPUT', 'SELECT'].includes(document.activeElement && document.activeElement.tagName);
  if (inField) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && document.activeElement.id === 'comment') { ev.preventDefault(); decide('reject'); }
    if (ev.key === 'Escape') document.activeElement.blur();
    return;
  }
  const k = ev.key;
  if (k === 'j' || k === 'ArrowDown') { ev.preventDefault(); openSubmission(Math.min(S.current + 1, S.queue.length - 1)); }
  else if (k === 'k' || k === 'ArrowUp') { ev.preventDefault(); openSubmission(Math.max(S.current - 1, 0)); }
  else if (k === 'Enter') openSubmission(S.current);
  else if (k === 'a') decide('approve');
  else if (k === 'r') { ev.preventDefault(); $('#comment').focus(); }
  else if (k === 'i' && role() === 'supervisor') toggleIds();
});

// ---------------------------------------------------------------- map

async function viewMap() {
  const p = await api('/surveys/' + encodeURIComponent(S.survey) + '/progress?points=true');
  const pts = p.points || [];
  const cents = p.psus.filter((e) => e.centroid);
  const all = pts.map((x) => [x.lat, x.lon]).concat(cents.map((c) => [c.centroid.lat, c.centroid.lon]));
  const W = 900, H = 560, pad = 24;
  const svg = el('svg', { id: 'map', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Interview locations and EA centres' });
  if (all.length) {
    const lats = all.map((a) => a[0]), lons = all.map((a) => a[1]);
    const minLat = Math.min(...lats), maxLat = Math.max(...lats), minLon = Math.min(...lons), maxLon = Math.max(...lons);
    const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    const span = Math.max((maxLon - minLon) * k, maxLat - minLat, 1e-4);
    const s = Math.min(W - 2 * pad, H - 2 * pad) / span;
    // centred in the box on both axes
    const ox = (W - 2 * pad - (maxLon - minLon) * k * s) / 2, oy = (H - 2 * pad - (maxLat - minLat) * s) / 2;
    const xy = (lat, lon) => [pad + ox + (lon - minLon) * k * s, H - pad - oy - (lat - minLat) * s];
    // a scale bar of 10 km
    const km10 = (10 / 111.2) * s;
    svg.append(el('line', { x1: pad, y1: H - 8, x2: pad + km10, y2: H - 8, class: 'scale' }), el('text', { x: pad + km10 + 4, y: H - 4, class: 'label' }, '10 km'));
    for (const c of cents) {
      const [x, y] = xy(c.centroid.lat, c.centroid.lon);
      svg.append(el('rect', { x: x - 5, y: y - 5, width: 10, height: 10, class: 'centroid', dataset: { psu: c.psu } }, el('title', {}, 'EA ' + c.psu + ' (centre of its interviews): ' + c.interviewed + ' interviewed')));
    }
    for (const pt of pts) {
      const [x, y] = xy(pt.lat, pt.lon);
      const flagged = (pt.flags || []).length > 0;
      svg.append(el('circle', { cx: x, cy: y, r: flagged ? 5 : 3, class: flagged ? 'point flagged' : 'point', dataset: { submission: pt.submission } },
        el('title', {}, pt.enumerator + ' · EA ' + pt.psu + (flagged ? ' · ' + pt.flags.map((f) => FLAG_LABEL[f] || f).join(', ') : ''))));
    }
  }
  $('#app').replaceChildren(el('section', { id: 'mapview' }, el('h1', {}, 'Map of ' + S.survey),
    el('p', {}, pts.length + ' located interviews; squares are the EAs\u2019 centres (the median of their points), red points are flagged. Reading the locations is recorded in the audit trail.'),
    svg));
}

// ---------------------------------------------------------------- team

function field(label, input) { return el('label', { class: 'field' }, el('span', {}, label), input); }
function task(title, id, inputs, run) {
  const out = el('pre', { class: 'result' });
  const f = el('form', { class: 'card task', id, onsubmit: async (ev) => {
    ev.preventDefault();
    try { out.textContent = await run(f); } catch (e) { fail(e); out.textContent = e.message; }
  } }, el('h3', {}, title), inputs, el('button', { type: 'submit' }, title), out);
  return f;
}
const val = (f, name) => f.elements[name].value.trim();
const fileOf = (f, name) => f.elements[name].files[0];
const sv = () => encodeURIComponent(S.survey);

async function viewTeam() {
  const parts = [el('h1', {}, 'Team and tasks of ' + S.survey)];
  const isAdmin = role() === 'admin';
  if (isAdmin) {
    const users = (await api('/users')).users || [];
    parts.push(el('table', { id: 'users' }, el('caption', {}, 'Users'),
      el('tr', {}, ['Name', 'Role', 'Surveys', ''].map((h) => el('th', {}, h))),
      users.map((u) => el('tr', { dataset: { user: u.name } }, el('td', {}, u.name), el('td', {}, u.role), el('td', {}, (u.surveys || []).join(', ') || 'all'),
        el('td', {}, u.revoked ? 'revoked' : el('button', { type: 'button', class: 'secondary', onclick: async () => {
          if (!confirm('Revoke ' + u.name + '? Their token stops working at once.')) return;
          try { await api('/users/' + encodeURIComponent(u.name), { method: 'DELETE' }); toast(u.name + ' revoked.'); viewTeam(); } catch (e) { fail(e); }
        } }, 'Revoke'))))));
    parts.push(task('Add user', 'add-user', [field('Name', el('input', { name: 'name', required: true })),
      field('Role', el('select', { name: 'role' }, ['enumerator', 'supervisor', 'statistician', 'researcher', 'admin'].map((r) => el('option', {}, r))))],
    async (f) => {
      const u = await api('/users', { method: 'POST', body: { name: val(f, 'name'), role: val(f, 'role'), surveys: [S.survey] } });
      return 'Token for ' + u.name + ' (shown once; hand it over in person):\n' + u.token;
    }));
    const page = await api('/assignments?survey=' + sv() + '&limit=300');
    const as = page.assignments || [];
    parts.push(el('table', { id: 'assignments' }, el('caption', {}, 'Assignments (' + (page.next_after ? 'first ' : '') + as.length + ')'),
      el('tr', {}, ['Assignment', 'Household', 'EA', 'Enumerator', 'Status', 'Comment'].map((h) => el('th', {}, h))),
      as.slice(0, 300).map((a) => el('tr', {}, el('td', {}, a.id), el('td', {}, a.household_id), el('td', {}, a.psu || ''), el('td', {}, a.enumerator), el('td', {}, a.status), el('td', {}, a.comment || '')))));
    parts.push(task('Assign a household', 'assign', [field('Household', el('input', { name: 'household', required: true })), field('EA', el('input', { name: 'psu' })),
      field('Stratum', el('input', { name: 'stratum' })), field('Enumerator', el('input', { name: 'enumerator', required: true }))],
    async (f) => {
      const r = await api('/surveys/' + sv() + '/assignments', { method: 'POST', body: { assignments: [{ household_id: val(f, 'household'), psu: val(f, 'psu') || undefined, stratum: val(f, 'stratum') || undefined, enumerator: val(f, 'enumerator') }] } });
      return JSON.stringify(r, null, 1);
    }));
    parts.push(task('Upload a form version', 'upload-form', [field('XLSForm, YAML or JSON', el('input', { name: 'file', type: 'file', accept: '.xlsx,.yaml,.yml,.json', required: true }))],
      async (f) => {
        const file = fileOf(f, 'file');
        const ext = file.name.split('.').pop().toLowerCase();
        const r = await api('/surveys/' + sv() + '/forms?format=' + ext, { method: 'POST', body: file, ctype: ext === 'xlsx' ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : ext === 'json' ? 'application/json' : 'application/yaml' });
        return 'Stored ' + r.form_id + ' version ' + r.version;
      }));
    parts.push(task('Draw the EAs', 'draw-psus', [field('Frame (CSV: psu_id, stratum, size, …)', el('input', { name: 'file', type: 'file', accept: '.csv', required: true })),
      field('EAs to select', el('input', { name: 'n', type: 'number', min: 1, required: true })), field('Seed', el('input', { name: 'seed', type: 'number', min: 0, required: true })),
      field('Allocation', el('select', { name: 'allocation' }, ['proportional', 'equal'].map((a) => el('option', {}, a))))],
    async (f) => {
      const r = await api('/surveys/' + sv() + '/sample/psus?n=' + val(f, 'n') + '&seed=' + val(f, 'seed') + '&allocation=' + val(f, 'allocation'), { method: 'POST', body: fileOf(f, 'file'), ctype: 'text/csv' });
      return (r.psus || []).length + ' EAs selected';
    }));
    parts.push(task('Draw the households', 'draw-households', [
      ...CLASSES.map((c) => field('Quota: ' + CLASS_LABEL[c], el('input', { name: c, type: 'number', min: 0, value: c === 'return_migrant' ? 3 : 6 }))),
      field('Seed', el('input', { name: 'seed', type: 'number', min: 0, required: true })), field('Enumerators (comma-separated)', el('input', { name: 'enumerators', required: true })),
      field('Supervisor', el('input', { name: 'supervisor' })), field('Form id', el('input', { name: 'form' }))],
    async (f) => {
      const quota = {};
      for (const c of CLASSES) quota[c] = Number(val(f, c));
      const r = await api('/surveys/' + sv() + '/sample/households', { method: 'POST', body: { quota, seed: Number(val(f, 'seed')), enumerators: val(f, 'enumerators').split(',').map((s) => s.trim()).filter(Boolean), supervisor: val(f, 'supervisor') || undefined, form_id: val(f, 'form') || undefined } });
      return JSON.stringify(r, null, 1);
    }));
  }
  parts.push(task('Compute weights', 'weights', [], async () => {
    const r = await api('/surveys/' + sv() + '/weights', { method: 'POST', body: {} });
    return JSON.stringify(r.report || r, null, 1).slice(0, 2000);
  }));
  parts.push(task('Make a release', 'release', [field('Release profile (YAML or JSON)', el('textarea', { name: 'profile', rows: 6, required: true }))], async (f) => {
    const r = await api('/surveys/' + sv() + '/releases', { method: 'POST', body: val(f, 'profile'), ctype: 'application/yaml' });
    return 'Release ' + r.id + ' made; publish it below once checked.';
  }));
  if (isAdmin) {
    const rs = (await api('/releases?survey=' + sv())).releases || [];
    parts.push(el('table', { id: 'releases' }, el('caption', {}, 'Releases'), el('tr', {}, ['Release', 'Made', 'Published', ''].map((h) => el('th', {}, h))),
      rs.map((r) => el('tr', {}, el('td', {}, r.id), el('td', {}, (r.created_at || '').slice(0, 16)), el('td', {}, r.published ? 'yes' : 'no'),
        el('td', {}, r.published ? '' : el('button', { type: 'button', onclick: async () => {
          try { await api('/releases/' + encodeURIComponent(r.id) + '/publish', { method: 'POST' }); toast('Published ' + r.id + '.'); viewTeam(); } catch (e) { fail(e); }
        } }, 'Publish'))))));
  }
  $('#app').replaceChildren(el('section', { id: 'team' }, parts));
}

// ---------------------------------------------------------------- start

$('#signin-form').addEventListener('submit', (ev) => { ev.preventDefault(); signIn($('#token').value.trim()); });
$('#signout').addEventListener('click', signOut);
$('#survey').addEventListener('change', (ev) => { S.survey = ev.target.value; S.forms = {}; show(S.tab); });
for (const b of $$('#tabs button')) b.addEventListener('click', () => show(b.dataset.tab));
if (S.token) signIn(S.token);
