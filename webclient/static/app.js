// dotm collect: the offline web client for enumerators.
//
// The rules (relevance, constraints, required, calculations, choice
// filters) are not written here: they come from package questionnaire
// compiled to WebAssembly (questionnaire.wasm), the same code the server
// validates submissions with. This file draws the form, keeps drafts and
// finished interviews in IndexedDB and sends them with a retrying queue.
'use strict';

const API = '/api/v1';
const $ = (sel, el = document) => el.querySelector(sel);

// ---- texts of the app itself (the form brings its own) ----
const UI = {
  en: {
    signin: 'Sign in', token: 'Access token', tokenHint: 'The token your survey manager gave you.', badToken: 'This token is not accepted.',
    offlineNoToken: 'No network: sign in once while online.', assignments: 'Households', outbox: 'Waiting to be sent', nothingWaiting: 'Nothing waiting to be sent.',
    open: 'Open', resume: 'Continue', correct: 'Correct', returned: 'Returned', assigned: 'To do', submitted: 'Submitted', approved: 'Approved',
    draft: 'Draft', queued: 'Queued', sending: 'Sending', sent: 'Sent', failed: 'Not accepted', conflict: 'Conflict',
    prev: 'Previous', next: 'Next', finish: 'Finish', finishTitle: 'Finish the interview', saveExit: 'Save and close',
    finishQueue: 'Finish and send', fixFirst: 'Fix these before finishing:', allGood: 'All questions are answered. The interview will be sent as soon as there is a network.',
    add: 'Add', remove: 'Remove', entry: 'Entry', recordGps: 'Record location', clear: 'Clear', locating: 'Locating…', noGps: 'Location not available',
    ok: 'OK', sendNow: 'Send now', signout: 'Sign out', online: 'online', offline: 'offline', waiting: (n) => `${n} waiting to send`, signoutLoses: (n) => `${n} interviews on this tablet are not sent yet. Signing out deletes them. Sign out anyway?`,
    attempts: (n) => `${n} attempt${n === 1 ? '' : 's'}`, nextTry: 'next try', queuedToast: 'Interview saved; it will be sent when there is a network.',
    sentToast: (n) => `${n} interview${n === 1 ? '' : 's'} sent.`, fixPage: 'Please fix the marked answers.', comment: 'Supervisor', household: 'Household',
    noAssignments: 'No households assigned yet.', pages: 'Sections', refresh: 'Refresh', mediaUnsupported: 'Photos and recordings are not taken by this app.',
    selectOne: 'Choose…', loadingForm: 'Loading the questionnaire…', formMissing: 'The questionnaire is not on this tablet yet; connect once to download it.',
    problems: 'problems', page: 'Section', noNetwork: 'waiting for a network',
    followOn: (n) => `${n} follow-on problem${n === 1 ? '' : 's'} (fixed with this one)`, fromAssignment: 'from the assignment',
    unsent: (n, d) => n === 0 ? 'Every interview on this tablet is sent.' : `${n} interview${n === 1 ? '' : 's'} on this tablet not sent yet${d ? ` (${d} still being filled in)` : ''}.`,
    pinSetup: 'Choose a PIN', pinSetupHint: 'Interviews on this tablet are encrypted with a key made from your PIN. You will need it each time the app opens. At least 6 digits.',
    pin: 'PIN', pinAgain: 'PIN again', pinSave: 'Save PIN', pinShort: 'The PIN needs at least 6 digits.', pinDiffer: 'The two PINs differ.',
    unlock: 'Unlock', unlockHint: 'Enter your PIN to open the interviews on this tablet.', badPin: 'Wrong PIN.', forgotPin: 'Forgot the PIN',
    forgotLoses: (n) => `Without the PIN the ${n} unsent interviews on this tablet cannot be opened and are deleted. Sign out?`,
  },
  es: {
    signin: 'Ingresar', token: 'Clave de acceso', tokenHint: 'La clave que le dio el responsable de la encuesta.', badToken: 'Esta clave no es aceptada.',
    offlineNoToken: 'Sin red: ingrese una vez con conexión.', assignments: 'Hogares', outbox: 'Por enviar', nothingWaiting: 'Nada por enviar.',
    open: 'Abrir', resume: 'Continuar', correct: 'Corregir', returned: 'Devuelta', assigned: 'Pendiente', submitted: 'Enviada', approved: 'Aprobada',
    draft: 'Borrador', queued: 'En cola', sending: 'Enviando', sent: 'Enviada', failed: 'No aceptada', conflict: 'Conflicto',
    prev: 'Anterior', next: 'Siguiente', finish: 'Terminar', finishTitle: 'Terminar la entrevista', saveExit: 'Guardar y cerrar',
    finishQueue: 'Terminar y enviar', fixFirst: 'Corrija esto antes de terminar:', allGood: 'Todas las preguntas están respondidas. La entrevista se enviará en cuanto haya red.',
    add: 'Agregar', remove: 'Quitar', entry: 'Registro', recordGps: 'Registrar ubicación', clear: 'Borrar', locating: 'Buscando ubicación…', noGps: 'Ubicación no disponible',
    ok: 'OK', sendNow: 'Enviar ahora', signout: 'Salir', online: 'en línea', offline: 'sin red', waiting: (n) => `${n} por enviar`, signoutLoses: (n) => `${n} entrevistas de esta tableta no se han enviado. Al salir se borran. ¿Salir de todos modos?`,
    attempts: (n) => `${n} intento${n === 1 ? '' : 's'}`, nextTry: 'próximo intento', queuedToast: 'Entrevista guardada; se enviará cuando haya red.',
    sentToast: (n) => `${n} entrevista${n === 1 ? '' : 's'} enviada${n === 1 ? '' : 's'}.`, fixPage: 'Corrija las respuestas marcadas.', comment: 'Supervisor', household: 'Hogar',
    noAssignments: 'Todavía no tiene hogares asignados.', pages: 'Secciones', refresh: 'Actualizar', mediaUnsupported: 'Esta aplicación no toma fotos ni grabaciones.',
    selectOne: 'Elija…', loadingForm: 'Cargando el cuestionario…', formMissing: 'El cuestionario aún no está en esta tableta; conéctese una vez para descargarlo.',
    problems: 'problemas', page: 'Sección', noNetwork: 'esperando red',
    followOn: (n) => `${n} problema${n === 1 ? '' : 's'} que se deriva${n === 1 ? '' : 'n'} de este (se corrige${n === 1 ? '' : 'n'} con él)`, fromAssignment: 'de la asignación',
    unsent: (n, d) => n === 0 ? 'Todas las entrevistas de esta tableta están enviadas.' : `${n} entrevista${n === 1 ? '' : 's'} de esta tableta sin enviar${d ? ` (${d} en curso)` : ''}.`,
    pinSetup: 'Elija un PIN', pinSetupHint: 'Las entrevistas de esta tableta se cifran con una clave hecha con su PIN. Lo necesitará cada vez que abra la aplicación. Al menos 6 dígitos.',
    pin: 'PIN', pinAgain: 'PIN otra vez', pinSave: 'Guardar PIN', pinShort: 'El PIN necesita al menos 6 dígitos.', pinDiffer: 'Los dos PIN no coinciden.',
    unlock: 'Desbloquear', unlockHint: 'Ingrese su PIN para abrir las entrevistas de esta tableta.', badPin: 'PIN incorrecto.', forgotPin: 'Olvidé el PIN',
    forgotLoses: (n) => `Sin el PIN las ${n} entrevistas sin enviar de esta tableta no se pueden abrir y se borran. ¿Salir?`,
  },
};
function t(key, ...args) {
  const d = UI[app.lang] || UI[(app.lang || '').split('-')[0]] || UI.en;
  const v = d[key] !== undefined ? d[key] : UI.en[key];
  return typeof v === 'function' ? v(...args) : v;
}

// ---- the PIN vault ----
// Interviews hold identifiers (names, phone numbers), so their answers are
// kept on the tablet encrypted: AES-GCM with a 256-bit key derived from the
// enumerator's PIN by PBKDF2 (SHA-256, a random 16-byte salt). The key lives
// only in memory: after the app is closed it opens with the PIN. The kv
// record 'pin' holds the salt, the iteration count and a check value (a
// known text encrypted with the key) to tell a wrong PIN; never the PIN or
// the key.
const PBKDF2_ITERATIONS = 310000;
const PIN_CHECK = 'dotm-pin-check';
const vault = {
  key: null,
  async derive(pin, salt, iterations) {
    const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveKey']);
    return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  },
  async encrypt(key, text) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(text));
    return { iv, data: new Uint8Array(data) };
  },
  async decrypt(key, box) {
    return new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv }, key, box.data));
  },
  async isSet() { return !!(await db.get('pin')); },
  async setup(pin) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await this.derive(pin, salt, PBKDF2_ITERATIONS);
    await db.set('pin', { salt, iterations: PBKDF2_ITERATIONS, check: await this.encrypt(key, PIN_CHECK) });
    this.key = key;
  },
  // unlock derives the key from pin and keeps it when the check opens.
  async unlock(pin) {
    const rec = await db.get('pin');
    if (!rec) return false;
    const key = await this.derive(pin, rec.salt, rec.iterations);
    try {
      if (await this.decrypt(key, rec.check) !== PIN_CHECK) return false;
    } catch (e) { return false; } // AES-GCM refuses a wrong key
    this.key = key;
    return true;
  },
  async seal(obj) {
    if (!this.key) throw new Error('the interviews are locked: enter the PIN');
    return this.encrypt(this.key, JSON.stringify(obj));
  },
  async open(box) {
    if (!this.key) throw new Error('the interviews are locked: enter the PIN');
    return JSON.parse(await this.decrypt(this.key, box));
  },
};

// holdsAnswers reports an interview with answers on the tablet.
function holdsAnswers(iv) { return iv.has_answers !== undefined ? iv.has_answers : !!(iv.answers && Object.keys(iv.answers).length); }

// ---- IndexedDB ----
const db = {
  conn: null,
  open() {
    if (this.conn) return Promise.resolve(this.conn);
    return new Promise((resolve, reject) => {
      const r = indexedDB.open('dotm-collect', 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('kv');
        d.createObjectStore('interviews', { keyPath: 'instance_id' });
      };
      r.onsuccess = () => { this.conn = r.result; resolve(this.conn); };
      r.onerror = () => reject(r.error);
    });
  },
  async tx(store, mode, fn) {
    const d = await this.open();
    return new Promise((resolve, reject) => {
      const x = d.transaction(store, mode);
      const s = x.objectStore(store);
      let out;
      const req = fn(s);
      if (req) req.onsuccess = () => { out = req.result; };
      x.oncomplete = () => resolve(out);
      x.onerror = () => reject(x.error);
      x.onabort = () => reject(x.error);
    });
  },
  get(key) { return this.tx('kv', 'readonly', (s) => s.get(key)); },
  set(key, v) { return this.tx('kv', 'readwrite', (s) => s.put(v, key)); },
  del(key) { return this.tx('kv', 'readwrite', (s) => s.delete(key)); },
  // interviewsMeta lists the interviews without opening their answers
  // (has_answers says whether there are any); interviews and interview
  // open them, which needs the PIN.
  interviewsMeta() { return this.tx('interviews', 'readonly', (s) => s.getAll()); },
  async interviews() { return Promise.all((await this.interviewsMeta()).map(openRecord)); },
  async interview(id) { const r = await this.tx('interviews', 'readonly', (s) => s.get(id)); return r && openRecord(r); },
  async putInterview(iv) {
    iv.updated_at = new Date().toISOString();
    const rec = Object.assign({}, iv);
    delete rec.answers;
    rec.has_answers = !!(iv.answers && Object.keys(iv.answers).length);
    if (iv.answers) rec.sealed = await vault.seal(iv.answers);
    return this.tx('interviews', 'readwrite', (s) => s.put(rec));
  },
  clearInterviews() { return this.tx('interviews', 'readwrite', (s) => s.clear()); },
};

async function openRecord(rec) {
  const iv = Object.assign({}, rec);
  if (iv.sealed) { iv.answers = await vault.open(iv.sealed); delete iv.sealed; }
  delete iv.has_answers;
  return iv;
}

// ---- what the tablet keeps ----
// An interview the server acknowledged is kept whole for a short grace
// period (to show it, or resend it if the acknowledgement is doubted), then
// purged to a stub without answers: identifiers must not stay on a tablet
// that can be lost. The grace period is the kv setting purge_grace_ms
// (default 10 minutes).
const PURGE_GRACE_MS = 10 * 60 * 1000;
async function purgeGrace() {
  const v = await db.get('purge_grace_ms');
  return typeof v === 'number' && v >= 0 ? v : PURGE_GRACE_MS;
}
async function markSent(iv) {
  iv.purge_at = Date.now() + await purgeGrace();
}
async function purgeSent(all) {
  const now = Date.now();
  for (const iv of await db.interviewsMeta()) {
    if (iv.status === 'sent' && iv.sealed && (all || iv.purge_at == null || iv.purge_at <= now)) {
      await db.putInterview({ instance_id: iv.instance_id, assignment_id: iv.assignment_id, household_id: iv.household_id,
        supersedes: iv.supersedes, status: 'sent', sent_at: iv.sent_at, purged: true });
    }
  }
}

// ---- the rule engine (questionnaire compiled to WebAssembly) ----
let rulesReady = null;
function loadRules() {
  if (rulesReady) return rulesReady;
  rulesReady = new Promise((resolve, reject) => {
    window.dotmRulesReady = () => resolve(window.dotmRules);
    const go = new Go();
    WebAssembly.instantiateStreaming(fetch('questionnaire.wasm'), go.importObject)
      .then((r) => { go.run(r.instance); })
      .catch(reject);
  });
  return rulesReady;
}
const Rules = {
  async load(formJSON) {
    const r = await loadRules();
    const out = JSON.parse(r.load(formJSON));
    if (out.error) throw new Error(out.error);
    return out;
  },
  async state(handle, answers, lang, now) {
    const r = await loadRules();
    const out = JSON.parse(r.state(handle, JSON.stringify(answers), lang || '', now || new Date().toISOString()));
    if (out.error) throw new Error(out.error);
    return out;
  },
};
window.dotmTest = { Rules, loadRules, db, purgeSent, vault }; // for the end-to-end test's parity vectors

// ---- app state ----
const app = {
  token: null, me: null, lang: 'en', assignments: [], online: navigator.onLine,
  iv: null, // the open interview (IndexedDB record)
  form: null, // {handle, form, outline, pages}
  st: null, // the last questionnaire State
  view: 0, homeLoading: 0, page: 0, touched: new Set(), showAll: new Set(), syncing: false, syncTimer: null, locked: new Set(),
};

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

function toast(msg) {
  const tb = $('#toast');
  tb.textContent = msg;
  tb.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => tb.classList.remove('show'), 4000);
}

function textIn(text, lang) {
  if (!text) return '';
  if (typeof text === 'string') return text;
  const def = app.form ? app.form.form.default_language : '';
  for (const k of [lang, def, '']) if (text[k]) return text[k];
  const keys = Object.keys(text).filter((k) => text[k]).sort();
  return keys.length ? text[keys[0]] : '';
}

async function api(path, opts = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + app.token }, opts.headers || {});
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, { method: opts.method || 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  return res;
}

// ---- start ----
async function start() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker:', e));
  }
  window.addEventListener('online', () => { app.online = true; drawNet(); syncSoon(0); });
  window.addEventListener('offline', () => { app.online = false; drawNet(); });
  $('#lang').addEventListener('change', (e) => setLang(e.target.value));
  $('#outbox-badge').addEventListener('click', () => { if (!app.iv) showHome(); else $('#outbox') && $('#outbox').scrollIntoView(); });
  app.token = await db.get('token');
  app.me = await db.get('me');
  app.deviceId = await db.get('device-id');
  if (!app.deviceId) { app.deviceId = 'web-' + uuid(); await db.set('device-id', app.deviceId); }
  app.lang = (await db.get('lang')) || (navigator.language || 'en').split('-')[0];
  drawNet();
  loadRules(); // start compiling while the user signs in
  if (!app.token) return showSignIn();
  await afterSignIn();
}

// afterSignIn asks for the PIN (to set it up the first time, else to unlock
// the interviews), then shows the households.
async function afterSignIn() {
  if (!vault.key) return (await vault.isSet()) ? showUnlock() : showPinSetup();
  await sealOldRecords();
  await showHome();
  syncSoon(0);
}

// sealOldRecords encrypts interviews an earlier version of the app kept
// in clear.
async function sealOldRecords() {
  for (const rec of await db.interviewsMeta()) if (rec.answers) await db.putInterview(rec);
}

// isUnsent: an interview on the tablet that the server does not have yet
// (a draft with answers, or one waiting or refused).
function isUnsent(iv) { return iv.status !== 'sent' && (iv.status !== 'draft' || holdsAnswers(iv)); }

function pinInput(id, label, auto) {
  return [el('label', { for: id, text: label }),
    el('input', { id, type: 'password', inputmode: 'numeric', pattern: '[0-9]*', autocomplete: auto, minlength: 6, maxlength: 32, required: true })];
}

function showPinSetup() {
  app.iv = null;
  ++app.view;
  const msg = el('p', { class: 'error', id: 'pin-error' });
  const form = el('form', { class: 'card signin', id: 'pin-setup', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const a = $('#pin').value; const b = $('#pin2').value;
    if (!/^[0-9]{6,32}$/.test(a)) { msg.textContent = t('pinShort'); return; }
    if (a !== b) { msg.textContent = t('pinDiffer'); return; }
    $('#pin-save').disabled = true;
    await vault.setup(a);
    await afterSignIn();
  } },
  el('h1', { text: t('pinSetup') }), el('p', { class: 'hint', text: t('pinSetupHint') }),
  ...pinInput('pin', t('pin'), 'new-password'), ...pinInput('pin2', t('pinAgain'), 'new-password'), msg,
  el('button', { class: 'primary', type: 'submit', id: 'pin-save', text: t('pinSave') }));
  $('#app').replaceChildren(form);
  $('#pin').focus();
}

async function showUnlock() {
  app.iv = null;
  ++app.view;
  const msg = el('p', { class: 'error', id: 'pin-error' });
  const unsent = (await db.interviewsMeta()).filter(isUnsent).length;
  const form = el('form', { class: 'card signin', id: 'unlock', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    $('#unlock-button').disabled = true;
    const ok = await vault.unlock($('#pin').value);
    $('#unlock-button').disabled = false;
    if (!ok) { msg.textContent = t('badPin'); $('#pin').value = ''; $('#pin').focus(); return; }
    await afterSignIn();
  } },
  el('h1', { text: t('unlock') }), el('p', { class: 'hint', text: t('unlockHint') }),
  el('p', { class: 'meta', id: 'unsent', text: t('unsent', unsent, 0) }),
  ...pinInput('pin', t('pin'), 'current-password'), msg,
  el('button', { class: 'primary', type: 'submit', id: 'unlock-button', text: t('unlock') }),
  el('button', { class: 'quiet', type: 'button', id: 'forgot-pin', text: t('forgotPin'), onclick: async () => {
    if (unsent && !window.confirm(t('forgotLoses', unsent))) return;
    await forgetTablet();
    showSignIn();
  } }));
  $('#app').replaceChildren(form);
  drawNet();
  $('#pin').focus();
}

function setLang(lang) {
  app.lang = lang;
  document.documentElement.lang = lang;
  db.set('lang', lang);
  drawNet();
  if (app.iv) { app.iv.lang = lang; refreshState().then(drawPage); } else if (app.token) showHome(); else showSignIn();
}

function drawLangs(codes, names) {
  const sel = $('#lang');
  sel.replaceChildren();
  const list = codes && codes.length ? codes : ['en', 'es'];
  for (const c of list) sel.append(el('option', { value: c, text: (names && names[c]) || c }));
  if (!list.includes(app.lang)) app.lang = list[0];
  sel.value = app.lang;
  document.documentElement.lang = app.lang;
}

async function drawNet() {
  app.online = navigator.onLine;
  const n = $('#net');
  n.textContent = app.online ? t('online') : t('offline');
  n.className = 'net ' + (app.online ? 'on' : 'off');
  const waiting = (await db.interviewsMeta()).filter((iv) => iv.status === 'queued' || iv.status === 'sending').length;
  const b = $('#outbox-badge');
  b.hidden = waiting === 0;
  b.textContent = t('waiting', waiting);
  $('#who').textContent = app.me ? app.me.name : '';
}

// ---- sign in ----
function showSignIn(err) {
  app.iv = null;
  ++app.view;
  drawLangs(['en', 'es'], { en: 'English', es: 'Español' });
  const input = el('input', { id: 'token', type: 'password', autocomplete: 'current-password', 'aria-describedby': 'token-hint', required: true });
  const msg = el('p', { class: 'error', id: 'signin-error', text: err || '' });
  const form = el('form', { class: 'card signin', onsubmit: async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    app.token = token;
    let res;
    try { res = await api('/me'); } catch (x) { msg.textContent = t('offlineNoToken'); return; }
    if (!res.ok) { app.token = null; msg.textContent = t('badToken'); return; }
    app.me = await res.json();
    await db.set('token', token);
    await db.set('me', app.me);
    await afterSignIn();
  } },
  el('h1', { text: t('signin') }),
  el('label', { for: 'token', text: t('token') }), input,
  el('p', { class: 'hint', id: 'token-hint', text: t('tokenHint') }), msg,
  el('button', { class: 'primary', type: 'submit', id: 'signin', text: t('signin') }));
  $('#app').replaceChildren(form);
  input.focus();
}

// ---- home: assignments and the send queue ----
async function fetchAssignments() {
  try {
    const res = await api('/assignments');
    if (res.status === 401) { await signOut(); return false; }
    if (res.ok) {
      app.assignments = (await res.json()).assignments || [];
      await db.set('assignments', app.assignments);
      await prefetchForms();
      return true;
    }
  } catch (e) { /* offline: use what is stored */ }
  app.assignments = (await db.get('assignments')) || [];
  return false;
}

// formIdFor finds the form of an assignment: its form_id, else the survey's latest form.
async function formIdFor(a) {
  if (a.form_id) return a.form_id;
  const key = 'survey-form:' + a.survey;
  try {
    const res = await api('/surveys/' + encodeURIComponent(a.survey));
    if (res.ok) {
      const sv = await res.json();
      const forms = sv.forms || [];
      if (forms.length) {
        const id = forms[forms.length - 1].form_id;
        await db.set(key, id);
        return id;
      }
    }
  } catch (e) { /* offline */ }
  return db.get(key);
}

// fetchForm gets the latest version of a form (ETag: 304 keeps the stored one)
// and returns {json, version}.
async function fetchForm(formId) {
  const latestKey = 'form-latest:' + formId;
  const stored = await db.get(latestKey);
  try {
    const res = await api('/forms/' + encodeURIComponent(formId), { headers: stored ? { 'If-None-Match': stored.etag } : {} });
    if (res.status === 304 && stored) return stored;
    if (res.ok) {
      const json = await res.text();
      const rec = { etag: res.headers.get('ETag') || '', json, version: res.headers.get('X-Form-Version') || JSON.parse(json).settings.version };
      await db.set(latestKey, rec);
      await db.set('form:' + formId + '@' + rec.version, json);
      return rec;
    }
  } catch (e) { /* offline */ }
  return stored;
}

async function prefetchForms() {
  const seen = new Set();
  for (const a of app.assignments) {
    const id = await formIdFor(a);
    if (id && !seen.has(id)) { seen.add(id); await fetchForm(id); }
  }
}

async function showHome() {
  app.homeLoading++;
  try { await drawHome(); } finally { app.homeLoading--; }
}

async function drawHome() {
  app.iv = null; app.form = null;
  const view = ++app.view; // a newer screen wins over this one while it loads
  drawLangs(['en', 'es'], { en: 'English', es: 'Español' });
  await fetchAssignments();
  const ivs = await db.interviews();
  if (view !== app.view) return;
  const byAssignment = {};
  for (const iv of ivs) {
    const prev = byAssignment[iv.assignment_id];
    if (!prev || prev.updated_at < iv.updated_at) byAssignment[iv.assignment_id] = iv;
  }
  const list = el('ul', { class: 'assignments', id: 'assignments' });
  const order = { returned: 0, assigned: 1, submitted: 2, approved: 3 };
  const sorted = [...app.assignments].sort((a, b) => (order[a.status] - order[b.status]) || a.household_id.localeCompare(b.household_id));
  for (const a of sorted) {
    const local = byAssignment[a.id];
    let action = null;
    if (local && local.status === 'draft') action = t('resume');
    else if (a.status === 'returned' && !(local && local.status !== 'draft' && local.supersedes === a.submission_id)) action = t('correct');
    else if (a.status === 'assigned' && !local) action = t('open');
    let badge = a.status;
    if (local && local.status !== 'draft' && local.status !== 'sent') badge = local.status;
    list.append(el('li', { class: 'assignment status-' + badge, 'data-assignment': a.id },
      el('div', { class: 'hh' }, el('strong', { text: a.household_id }), el('span', { class: 'meta', text: [a.psu, a.stratum].filter(Boolean).join(' · ') })),
      el('span', { class: 'pill ' + badge, text: t(badge) || badge }),
      a.status === 'returned' && a.comment ? el('p', { class: 'comment' }, el('b', { text: t('comment') + ': ' }), a.comment) : null,
      action ? el('button', { class: 'primary open', type: 'button', text: action, onclick: () => openAssignment(a, local) }) : null));
  }
  if (!sorted.length) list.append(el('li', { class: 'empty', text: t('noAssignments') }));
  const unsent = ivs.filter(isUnsent);
  const outbox = el('section', { class: 'card', id: 'outbox' }, el('h2', { text: t('outbox') }),
    el('p', { class: 'meta', id: 'unsent', text: t('unsent', unsent.length, unsent.filter((iv) => iv.status === 'draft').length) }));
  const waiting = ivs.filter((iv) => iv.status !== 'draft' && iv.status !== 'sent').sort((a, b) => a.updated_at.localeCompare(b.updated_at));
  if (!waiting.length) outbox.append(el('p', { class: 'hint', text: t('nothingWaiting') }));
  const ol = el('ul', { class: 'queue', id: 'queue' });
  for (const iv of waiting) {
    const when = iv.next_try ? ' · ' + t('nextTry') + ' ' + new Date(iv.next_try).toLocaleTimeString() : '';
    ol.append(el('li', { class: 'queued-item status-' + iv.status, 'data-instance': iv.instance_id },
      el('strong', { text: iv.household_id || iv.instance_id.slice(0, 8) }),
      el('span', { class: 'pill ' + iv.status, text: t(iv.status) }),
      el('span', { class: 'meta', text: (navigator.onLine ? t('attempts', iv.attempts || 0) : t('noNetwork')) + when }),
      iv.last_error ? el('p', { class: 'error', text: iv.last_error }) : null,
      iv.problems ? problemList(iv.problems, (p) => el('span', { text: problemText(p).text }), { class: 'problems server' }) : null,
      iv.status === 'failed' || iv.status === 'conflict' ? el('button', { type: 'button', class: 'reopen', text: t('open'), onclick: () => reopen(iv) }) : null));
  }
  outbox.append(ol);
  if (waiting.some((iv) => iv.status === 'queued')) outbox.append(el('button', { type: 'button', id: 'send-now', text: t('sendNow'), onclick: () => syncSoon(0) }));
  const head = el('div', { class: 'home-head' }, el('h1', { text: t('assignments') }),
    el('button', { type: 'button', text: t('refresh'), onclick: showHome }),
    el('button', { type: 'button', class: 'quiet', text: t('signout'), onclick: signOut }));
  $('#app').replaceChildren(el('div', { class: 'home' }, el('section', { class: 'card' }, head, list), outbox));
  drawNet();
}

// signOut forgets the user. Signing out on purpose clears everything the
// tablet holds (after a warning when interviews are still unsent); a
// rejected token (401) keeps what is not yet sent, so that signing in again
// sends it, and purges the rest.
async function signOut(ev) {
  const byUser = ev instanceof Event;
  const unsent = (await db.interviewsMeta()).filter(isUnsent);
  if (byUser) {
    if (unsent.length && !window.confirm(t('signoutLoses', unsent.length))) return;
    await forgetTablet();
  } else {
    await purgeSent(true);
    await db.del('token'); await db.del('me'); await db.del('assignments');
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage('clear-data');
    app.token = null; app.me = null;
  }
  showSignIn();
}

// forgetTablet deletes the interviews, the PIN and the user from the tablet.
async function forgetTablet() {
  await db.clearInterviews();
  await db.del('pin');
  vault.key = null;
  await db.del('token'); await db.del('me'); await db.del('assignments');
  if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage('clear-data');
  app.token = null; app.me = null;
}

// ---- interviews ----
function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function openAssignment(a, local) {
  ++app.view;
  $('#app').replaceChildren(el('p', { class: 'loading', text: t('loadingForm') }));
  let iv = local && local.status === 'draft' ? local : null;
  if (!iv) {
    const formId = await formIdFor(a);
    const rec = formId ? await fetchForm(formId) : null;
    if (!rec) { toast(t('formMissing')); return showHome(); }
    iv = { instance_id: uuid(), assignment_id: a.id, household_id: a.household_id, survey: a.survey, form_id: formId, form_version: rec.version,
      started_at: new Date().toISOString(), answers: {}, status: 'draft', attempts: 0, lang: app.lang,
      prefill: Object.assign({ household_id: a.household_id }, a.prefill || {}) };
    if (a.status === 'returned' && a.submission_id) {
      iv.supersedes = a.submission_id;
      const prev = await db.interview(a.submission_id);
      if (prev && prev.answers) iv.answers = JSON.parse(JSON.stringify(prev.answers)); // purged copies have none
      else {
        // not on this tablet: start from what the server has (the enumerator may read their own submission)
        try {
          const path = '/submissions/' + encodeURIComponent(a.submission_id);
          let res = await api(path + '?include=identifiers');
          if (res.status === 403) res = await api(path);
          if (res.ok) iv.answers = (await res.json()).answers || {};
        } catch (e) { /* offline: start empty */ }
      }
    }
    await db.putInterview(iv);
  }
  await openInterview(iv);
}

// reopen takes an interview the server refused back to a draft to fix it; one
// in conflict (its instance_id holds other content) continues under a new id.
async function reopen(iv) {
  ++app.view;
  if (iv.status === 'conflict') {
    const copy = Object.assign({}, iv, { instance_id: uuid(), attempts: 0 });
    iv.status = 'sent'; iv.last_error = 'replaced by ' + copy.instance_id; // kept, no longer queued
    await markSent(iv);
    await db.putInterview(iv);
    iv = copy;
  }
  iv.status = 'draft'; iv.last_error = ''; iv.next_try = null; iv.problems = null;
  await db.putInterview(iv);
  await openInterview(iv);
}

async function openInterview(iv) {
  const json = await db.get('form:' + iv.form_id + '@' + iv.form_version);
  if (!json) { toast(t('formMissing')); return showHome(); }
  const loaded = await Rules.load(json);
  app.form = loaded;
  app.form.pages = buildPages(loaded.outline);
  app.form.byName = {};
  const index = (items) => { for (const it of items) { app.form.byName[it.name] = it; if (it.children) index(it.children); } };
  index(loaded.outline);
  app.iv = iv;
  app.page = iv.page || 0;
  app.touched = new Set(); app.showAll = new Set();
  if (!loaded.form.languages.includes(iv.lang)) iv.lang = loaded.form.languages.includes(app.lang) ? app.lang : loaded.form.default_language;
  app.lang = iv.lang;
  drawLangs(loaded.form.languages, loaded.form.language_names);
  fillMetadata(iv, loaded.outline);
  await refreshState();
  drawPage();
}

// Items the enumerator does not see: calculations and metadata the app fills.
const HIDDEN = new Set(['calculate', 'start', 'end', 'today', 'deviceid', 'username', 'email', 'phonenumber', 'simserial', 'subscriberid', 'audit', 'hidden']);
function visibleItem(it) { return !(it.kind === 'field' && HIDDEN.has(it.type)); }

// buildPages splits the form into pages: each group that holds no other
// group is a page (its ancestors decide whether it is shown too); a group
// of groups is opened up; a top-level repeat and each run of loose
// questions between groups are pages of their own.
function buildPages(outline) {
  const pages = [];
  const walk = (items, ancestors) => {
    let loose = [];
    const flush = () => { if (loose.length) pages.push({ name: '', label: ancestors.length ? ancestors[ancestors.length - 1].label : null, items: loose, ancestors }); loose = []; };
    for (const it of items) {
      if (it.kind === 'group' && !/field-list/.test(it.appearance || '') && (it.children || []).some((c) => c.kind === 'group')) {
        flush(); walk(it.children, ancestors.concat([it]));
      } else if (it.kind === 'group') {
        flush(); pages.push({ name: it.name, label: it.label, items: it.children || [], group: it, ancestors });
      } else if (it.kind === 'repeat') {
        flush(); pages.push({ name: it.name, label: it.label, items: [it], ancestors });
      } else if (visibleItem(it)) loose.push(it);
    }
    flush();
  };
  walk(outline, []);
  return pages;
}

// Fields the assignment answers: by the field's name, and an enumeration
// area's id under any of its usual names.
const PREFILL_ALIASES = { psu: ['psu', 'psu_id', 'ea', 'ea_id', 'ea_code', 'cluster'] };
function prefillFor(iv, name) {
  const p = iv.prefill || (iv.household_id ? { household_id: iv.household_id } : {});
  if (p[name] !== undefined) return p[name];
  for (const [key, names] of Object.entries(PREFILL_ALIASES)) if (names.includes(name) && p[key] !== undefined) return p[key];
  return undefined;
}

// fillMetadata fills what the app knows: times, the device, the user, and
// the answers the assignment gives (household id, region, urban, EA), which
// are then locked (app.locked) as long as the rules accept them.
function fillMetadata(iv, items) {
  app.locked = new Set();
  for (const it of allFields(items)) {
    const pre = ['text', 'select_one', 'integer', 'decimal'].includes(it.type) ? prefillFor(iv, it.name) : undefined;
    if (pre !== undefined && pre !== '') {
      const v = it.type === 'integer' || it.type === 'decimal' ? Number(pre) : String(pre);
      if (iv.answers[it.name] === undefined || iv.answers[it.name] === '') iv.answers[it.name] = v;
      if (iv.answers[it.name] === v) app.locked.add(it.name);
      continue;
    }
    switch (it.type) {
      case 'start': if (!iv.answers[it.name]) iv.answers[it.name] = iv.started_at; break;
      case 'today': if (!iv.answers[it.name]) iv.answers[it.name] = localDate(new Date(iv.started_at)); break;
      case 'username': if (app.me) iv.answers[it.name] = app.me.name; break;
      case 'deviceid': if (!iv.answers[it.name]) iv.answers[it.name] = app.deviceId; break;
      default: break;
    }
  }
}

function localDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// ---- answers by path ("members[2].age") ----
function parsePath(path) {
  const out = [];
  for (const part of path.split('.')) {
    const m = /^(.+?)\[(\d+)\]$/.exec(part);
    if (m) { out.push(m[1], Number(m[2])); } else out.push(part);
  }
  return out;
}
function getAt(obj, path) {
  let cur = obj;
  for (const k of parsePath(path)) { if (cur == null) return undefined; cur = cur[k]; }
  return cur;
}
function setAt(obj, path, value) {
  const keys = parsePath(path);
  let cur = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    if (cur[keys[i]] == null) cur[keys[i]] = typeof keys[i + 1] === 'number' ? [] : {};
    cur = cur[keys[i]];
  }
  const last = keys[keys.length - 1];
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0 && typeof last !== 'number')) delete cur[last];
  else cur[last] = value;
}

async function refreshState() {
  app.st = await Rules.state(app.form.handle, app.iv.answers, app.lang, new Date().toISOString());
  // A repeat_count grows its repeat to the number it asks for (entries are
  // never dropped for the enumerator: the problem says how many to remove).
  let grown = false;
  for (const [path, n] of Object.entries(app.st.repeat_counts || {})) {
    const list = getAt(app.iv.answers, path) || [];
    if (list.length < n && n <= 100) {
      while (list.length < n) list.push({});
      setAt(app.iv.answers, path, list);
      grown = true;
    }
  }
  if (grown) app.st = await Rules.state(app.form.handle, app.iv.answers, app.lang, new Date().toISOString());
  app.problems = {};
  app.labels = app.st.labels || {};
  for (const p of app.st.problems || []) {
    if (p.code === 'not_relevant') continue; // dropped from what is sent
    (app.problems[p.path] = app.problems[p.path] || []).push(p);
  }
  return grown;
}

let saveTimer = null;
function saveSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => { if (app.iv) db.putInterview(app.iv); }, 300);
}

function pageRelevant(p) {
  const rel = app.st.relevant;
  if (p.ancestors.some((g) => rel[g.name] !== true)) return false;
  if (p.group) return rel[p.group.name] === true;
  return p.items.some((it) => visibleItem(it) && rel[it.name] !== false);
}

// pageProblems lists the problems of fields on page p.
function pageProblems(p) {
  const names = new Set();
  const walk = (items) => { for (const it of items) { names.add(it.name); if (it.children) walk(it.children); } };
  walk(p.items);
  const out = [];
  for (const [path, ps] of Object.entries(app.problems)) {
    const segs = path.split('.');
    if (segs.some((s) => names.has(s.replace(/\[\d+\]$/, '')))) out.push(...ps.map((x) => Object.assign({ path }, x)));
  }
  return out;
}

function drawPage() {
  const pages = app.form.pages;
  const finish = app.page >= pages.length;
  const nav = el('nav', { class: 'pages', 'aria-label': t('pages') });
  pages.forEach((p, i) => { // every section, shown or hidden by applyState as the answers change
    const n = pageProblems(p).length;
    nav.append(el('button', { type: 'button', class: 'pagelink' + (i === app.page ? ' current' : '') + (n && app.showAll.has(i) ? ' bad' : ''), 'data-page': i,
      text: textIn(p.label, app.lang) || (t('page') + ' ' + (i + 1)), onclick: () => goPage(i) }));
  });
  nav.append(el('button', { type: 'button', class: 'pagelink' + (finish ? ' current' : ''), 'data-page': pages.length, text: t('finish'), onclick: () => goPage(pages.length) }));
  const body = el('section', { class: 'page card', id: 'page' });
  if (finish) drawFinish(body);
  else {
    const p = pages[app.page];
    body.append(el('h2', { text: textIn(p.label, app.lang) || (t('page') + ' ' + (app.page + 1)) }));
    if (p.group && p.group.hint) body.append(el('p', { class: 'hint', text: textIn(p.group.hint, app.lang) }));
    renderItems(body, p.items, '');
    const buttons = el('div', { class: 'navbuttons' },
      el('button', { type: 'button', id: 'prev', text: t('prev'), disabled: prevPage() < 0, onclick: () => goPage(prevPage()) }),
      el('button', { type: 'button', class: 'quiet', id: 'save-exit', text: t('saveExit'), onclick: async () => { await idle(); await db.putInterview(app.iv); showHome(); } }),
      el('button', { type: 'button', class: 'primary', id: 'next', text: t('next'), onclick: nextPage }));
    body.append(buttons);
  }
  const head = el('div', { class: 'ivhead' }, el('span', { text: t('household') + ' ' + app.iv.household_id }), el('span', { class: 'meta', id: 'form-title', text: (app.form.form.titles || {})[app.lang] || app.form.form.title }));
  // keep the enumerator's place: a redraw (e.g. a repeat growing to its
  // count while typing) must not take the cursor away
  const active = document.activeElement;
  const focusID = active && active.id && $('#page') && $('#page').contains(active) ? active.id : null;
  const caret = focusID && typeof active.selectionStart === 'number' ? active.selectionStart : null;
  $('#app').replaceChildren(el('div', { class: 'interview' }, head, nav, body));
  applyState();
  if (focusID) {
    const again = document.getElementById(focusID);
    if (again) { again.focus(); if (caret !== null) try { again.setSelectionRange(caret, caret); } catch (e) { /* not a text input */ } }
  }
}

function prevPage() {
  for (let i = Math.min(app.page, app.form.pages.length) - 1; i >= 0; i--) if (pageRelevant(app.form.pages[i])) return i;
  return -1;
}

async function goPage(i) {
  await idle();
  app.page = i;
  app.iv.page = i;
  saveSoon();
  drawPage();
  window.scrollTo(0, 0);
}

async function nextPage() {
  await idle();
  const p = app.form.pages[app.page];
  app.showAll.add(app.page);
  if (pageProblems(p).length) {
    applyState();
    const first = document.querySelector('.field.invalid, .repeat.invalid');
    if (first) first.scrollIntoView({ block: 'center' });
    toast(t('fixPage'));
    return;
  }
  let i = app.page + 1;
  while (i < app.form.pages.length && !pageRelevant(app.form.pages[i])) i++;
  goPage(i);
}

function drawFinish(body) {
  body.append(el('h2', { text: t('finishTitle') }));
  const all = (app.st.problems || []).filter((p) => p.code !== 'not_relevant');
  if (all.length) {
    body.append(el('p', { class: 'error', text: t('fixFirst') }));
    body.append(problemList(all, (p) => {
      const pi = app.form.pages.findIndex((pg) => pageProblems(pg).some((x) => x.path === p.path));
      return el('button', { type: 'button', class: 'link', onclick: () => { app.showAll.add(pi); goPage(pi); }, text: problemText(p).text });
    }, { id: 'finish-problems' }));
  } else body.append(el('p', { class: 'good', text: t('allGood') }));
  body.append(el('div', { class: 'navbuttons' },
    el('button', { type: 'button', id: 'prev', text: t('prev'), onclick: () => goPage(prevPage()) }),
    el('button', { type: 'button', class: 'quiet', id: 'save-exit', text: t('saveExit'), onclick: async () => { await db.putInterview(app.iv); showHome(); } }),
    el('button', { type: 'button', class: 'primary', id: 'finish', text: t('finishQueue'), disabled: all.length > 0, onclick: finishInterview })));
}

async function finishInterview() {
  await idle();
  const iv = app.iv;
  iv.ended_at = new Date().toISOString();
  for (const it of allFields(app.form.outline)) if (it.type === 'end') setAt(iv.answers, it.name, iv.ended_at);
  await refreshState();
  if (Object.keys(app.problems).length) return drawPage();
  iv.answers = app.st.answers; // normalized: non-relevant answers dropped, calculations as the server computes them
  iv.status = 'queued';
  iv.attempts = 0;
  iv.next_try = null;
  await db.putInterview(iv);
  toast(t('queuedToast'));
  await showHome();
  syncSoon(0);
}

function allFields(items, out = []) {
  for (const it of items) { if (it.kind === 'field') out.push(it); if (it.children && it.kind === 'group') allFields(it.children, out); }
  return out;
}

// ---- drawing questions ----
function interpolate(text, prefix) {
  if (!text || text.indexOf('${') < 0) return text;
  return text.replace(/\$\{([A-Za-z_][\w.-]*)\}/g, (m, name) => {
    let v;
    if (prefix) {
      // the current repeat instance first, then its parents, then the top level
      const parts = prefix.replace(/\.$/, '').split('.');
      for (let k = parts.length; k > 0 && v === undefined; k--) {
        const inst = getAt(app.st.answers, parts.slice(0, k).join('.'));
        if (inst && typeof inst === 'object') v = inst[name];
      }
    }
    if (v === undefined) v = app.st.answers[name];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) return entryPhrase(prefix);
    return Array.isArray(v) ? v.join(' ') : String(v);
  });
}

// entryPhrase is what a label says for a reference not answered yet: the
// repeat entry holding it ("Sex of household member 2" until the name is
// given), or "…" outside a repeat. Package questionnaire's Describe says
// the same in problem labels.
function entryPhrase(prefix) {
  const parts = (prefix || '').replace(/\.$/, '').split('.').filter(Boolean);
  const m = parts.length ? /^(.+)\[(\d+)\]$/.exec(parts[parts.length - 1]) : null;
  const rep = m && app.form && app.form.byName[m[1]];
  if (!rep) return '…';
  return lowerFirst(`${textIn(rep.label, app.lang) || rep.name} ${Number(m[2]) + 1}`);
}
function lowerFirst(s) {
  return /^\p{Lu}\p{Ll}/u.test(s) ? s[0].toLowerCase() + s.slice(1) : s;
}

// problemText is a problem as a person reads it: the question's label (the
// roster member's name included) and the message without the question's
// internal name ("sex: …" reads "…").
function problemText(p) {
  const label = p.label || (app.labels && app.labels[p.path]) || p.path;
  const name = p.path.split('.').pop().replace(/\[\d+\]$/, '');
  let msg = p.message || '';
  if (msg.startsWith(name + ': ')) msg = msg.slice(name.length + 2);
  else if (msg.startsWith(name + ' ')) msg = msg.slice(name.length + 1);
  return { label, message: msg, text: `${label}: ${msg}` };
}

// groupProblems puts each problem that follows from another (Problem.cause)
// under its root: [{root, follow: [...]}], roots in the order given.
function groupProblems(ps) {
  const paths = new Set(ps.map((p) => p.path));
  const groups = []; const byRoot = {};
  for (const p of ps) {
    if (p.cause && paths.has(p.cause) && p.cause !== p.path) continue;
    const g = { root: p, follow: [] };
    groups.push(g);
    if (!byRoot[p.path]) byRoot[p.path] = g;
  }
  for (const p of ps) {
    if (p.cause && paths.has(p.cause) && p.cause !== p.path) byRoot[p.cause].follow.push(p);
  }
  return groups;
}

// problemList draws grouped problems: one item per root cause, the problems
// that follow from it folded under it. item(p) draws one problem.
function problemList(ps, item, attrs = {}) {
  const ul = el('ul', Object.assign({ class: 'problems' }, attrs));
  for (const g of groupProblems(ps)) {
    const li = el('li', { class: 'problem-root', 'data-path': g.root.path }, item(g.root));
    if (g.follow.length) {
      const inner = el('ul', { class: 'follow-on' });
      for (const p of g.follow) inner.append(el('li', {}, item(p)));
      li.append(el('details', { class: 'follow' }, el('summary', { text: t('followOn', g.follow.length) }), inner));
    }
    ul.append(li);
  }
  return ul;
}

function labelNode(it, prefix, tag = 'span', attrs = {}) {
  const raw = textIn(it.label, app.lang) || it.name;
  const n = el(tag, attrs);
  n.textContent = interpolate(raw, prefix);
  if (raw.indexOf('${') >= 0) { n.dataset.tpl = raw; n.dataset.prefix = prefix; }
  return n;
}

function renderItems(container, items, prefix) {
  for (const it of items) {
    if (!visibleItem(it)) continue;
    const path = prefix + it.name;
    if (it.kind === 'group') {
      const fs = el('fieldset', { class: 'group', 'data-path': path }, labelNode(it, prefix, 'legend'));
      if (it.hint) fs.append(el('p', { class: 'hint', text: textIn(it.hint, app.lang) }));
      renderItems(fs, it.children || [], prefix);
      container.append(fs);
    } else if (it.kind === 'repeat') container.append(renderRepeat(it, prefix));
    else if (it.kind === 'note') {
      const n = el('div', { class: 'note', 'data-path': path }, labelNode(it, prefix, 'p'));
      if (it.hint) n.append(el('p', { class: 'hint', text: textIn(it.hint, app.lang) }));
      container.append(n);
    } else container.append(renderField(it, prefix));
  }
}

function renderRepeat(it, prefix) {
  const path = prefix + it.name;
  const box = el('div', { class: 'repeat', 'data-path': path, 'data-name': it.name }, labelNode(it, prefix, 'h3'));
  if (it.hint) box.append(el('p', { class: 'hint', text: textIn(it.hint, app.lang) }));
  const list = getAt(app.iv.answers, path) || [];
  list.forEach((_, i) => {
    const ip = `${path}[${i}]`;
    const fs = el('fieldset', { class: 'instance', 'data-path': ip },
      el('legend', {}, el('span', { text: `${textIn(it.label, app.lang) || it.name} ${i + 1}` }),
        el('button', { type: 'button', class: 'remove quiet', 'data-remove': ip, text: t('remove'), onclick: () => removeInstance(path, i) })));
    renderItems(fs, it.children || [], ip + '.');
    box.append(fs);
  });
  box.append(el('div', { class: 'error', 'data-error-for': path }));
  box.append(el('button', { type: 'button', class: 'add', 'data-add': path, text: `+ ${t('add')}: ${textIn(it.label, app.lang) || it.name}`, onclick: () => addInstance(path) }));
  return box;
}

async function addInstance(path) {
  const list = getAt(app.iv.answers, path) || [];
  list.push({});
  setAt(app.iv.answers, path, list);
  await changed(null);
  drawPage();
  const last = document.querySelector(`[data-path="${path}[${list.length - 1}]"]`);
  if (last) last.scrollIntoView({ block: 'start' });
}

async function removeInstance(path, i) {
  const list = getAt(app.iv.answers, path) || [];
  list.splice(i, 1);
  setAt(app.iv.answers, path, list);
  // touched marks of later entries move up by one
  const moved = new Set();
  for (const p of app.touched) {
    const m = p.startsWith(path + '[') ? /^\[(\d+)\](.*)$/.exec(p.slice(path.length)) : null;
    if (!m) { moved.add(p); continue; }
    const k = Number(m[1]);
    if (k < i) moved.add(p); else if (k > i) moved.add(`${path}[${k - 1}]${m[2]}`);
  }
  app.touched = moved;
  await changed(null);
  drawPage();
}

function numberValue(s, integer) {
  s = s.trim();
  if (s === '') return undefined;
  const re = integer ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  return re.test(s) ? Number(s) : s; // not a number: the rules report the type problem
}

function renderField(it, prefix) {
  const path = prefix + it.name;
  const id = 'f-' + path.replace(/[^\w-]/g, '_');
  const v = getAt(app.iv.answers, path);
  const locked = app.locked.has(path) && !(app.problems[path] || []).length;
  if (locked) it = Object.assign({}, it, { read_only: true });
  const wrap = el('div', { class: 'field type-' + it.type + (locked ? ' locked' : ''), 'data-path': path, 'data-name': it.name });
  const lab = el('label', { class: 'qlabel', for: id });
  lab.append(labelNode(it, prefix), el('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }));
  if (locked) lab.append(el('span', { class: 'from-assignment', text: ' · ' + t('fromAssignment') }));
  wrap.append(lab);
  if (it.hint) wrap.append(el('p', { class: 'hint', text: textIn(it.hint, app.lang) }));
  const set = (val) => { setAt(app.iv.answers, path, val); app.touched.add(path); changed(path); };
  // typing: the answer is kept at once, the rules run when the typing pauses
  const type = (val) => { setAt(app.iv.answers, path, val); app.touched.add(path); saveSoon(); changedSoon(); };
  let control;
  switch (it.type) {
    case 'integer': case 'decimal':
      control = el('input', { id, type: 'text', inputmode: it.type === 'integer' ? 'numeric' : 'decimal', value: v ?? '', autocomplete: 'off', readonly: it.read_only,
        oninput: (e) => type(numberValue(e.target.value, it.type === 'integer')) });
      break;
    case 'date':
      control = el('input', { id, type: 'date', value: v ?? '', readonly: it.read_only, onchange: (e) => set(e.target.value || undefined) });
      break;
    case 'datetime':
      control = el('input', { id, type: 'datetime-local', value: v ? toLocalInput(v) : '', readonly: it.read_only,
        onchange: (e) => set(e.target.value ? new Date(e.target.value).toISOString() : undefined) });
      break;
    case 'time':
      control = el('input', { id, type: 'time', value: v ?? '', readonly: it.read_only, onchange: (e) => set(e.target.value || undefined) });
      break;
    case 'select_one': case 'select_multiple':
      control = renderChoices(it, path, id, v, set);
      if (it.read_only) control.querySelectorAll('input, select, button').forEach((x) => { x.disabled = true; });
      if (it.read_only && control.tagName === 'SELECT') control.disabled = true;
      break;
    case 'geopoint':
      control = renderGeopoint(it, path, id, v, set);
      break;
    case 'acknowledge':
      control = el('label', { class: 'choice' }, el('input', { id, type: 'checkbox', checked: v === 'OK', onchange: (e) => set(e.target.checked ? 'OK' : undefined) }), el('span', { text: t('ok') }));
      break;
    case 'image': case 'audio': case 'video': case 'file': case 'background-audio':
      control = el('p', { class: 'hint', text: t('mediaUnsupported') });
      break;
    default:
      if (it.appearance && /multiline/.test(it.appearance)) control = el('textarea', { id, rows: 3, readonly: it.read_only, oninput: (e) => type(e.target.value || undefined) }, v ?? '');
      else control = el('input', { id, type: it.type === 'text' && /numbers/.test(it.appearance || '') ? 'tel' : 'text', value: v ?? '', autocomplete: 'off', readonly: it.read_only, oninput: (e) => type(e.target.value || undefined) });
  }
  wrap.append(control, el('div', { class: 'error', 'data-error-for': path, id: id + '-err' }));
  return wrap;
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return `${localDate(d)}T${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function renderChoices(it, path, id, v, set) {
  const multi = it.type === 'select_multiple';
  const chosen = new Set(multi ? (Array.isArray(v) ? v : typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : []) : v ? [String(v)] : []);
  const choices = [...(it.choices || [])];
  if (it.or_other) choices.push({ name: 'other', label: { en: 'Other', es: 'Otro' } });
  if (!multi && (/minimal/.test(it.appearance || '') || choices.length > 14)) {
    const sel = el('select', { id, onchange: (e) => set(e.target.value || undefined) }, el('option', { value: '', text: t('selectOne') }));
    for (const c of choices) sel.append(el('option', { value: c.name, 'data-choice': c.name, selected: chosen.has(c.name), text: textIn(c.label, app.lang) || c.name }));
    return sel;
  }
  const box = el('div', { class: 'choices' + (choices.length > 4 ? ' many' : ''), role: multi ? 'group' : 'radiogroup', id });
  for (const c of choices) {
    const input = el('input', { type: multi ? 'checkbox' : 'radio', name: id, value: c.name, checked: chosen.has(c.name) });
    input.addEventListener('change', () => {
      if (multi) {
        const now = [...box.querySelectorAll('input:checked')].map((x) => x.value);
        set(now.length ? now : undefined);
      } else set(c.name);
    });
    box.append(el('label', { class: 'choice', 'data-choice': c.name }, input, el('span', { text: textIn(c.label, app.lang) || c.name })));
  }
  if (!multi) {
    box.append(el('button', { type: 'button', class: 'clear quiet', text: t('clear'), onclick: () => {
      box.querySelectorAll('input').forEach((x) => { x.checked = false; });
      set(undefined);
    } }));
  }
  return box;
}

function renderGeopoint(it, path, id, v, set) {
  const show = el('output', { id: id + '-value', class: 'geo' });
  const draw = (g) => { show.textContent = g ? `${Number(g.lat).toFixed(6)}, ${Number(g.lon).toFixed(6)} ± ${Math.round(g.accuracy || 0)} m` : '—'; };
  draw(v);
  const btn = el('button', { type: 'button', id, class: 'gps', text: t('recordGps'), onclick: () => {
    if (!navigator.geolocation) { show.textContent = t('noGps'); return; }
    show.textContent = t('locating');
    navigator.geolocation.getCurrentPosition((pos) => {
      const g = { lat: pos.coords.latitude, lon: pos.coords.longitude, alt: pos.coords.altitude || 0, accuracy: pos.coords.accuracy || 0 };
      draw(g); set(g);
    }, (err) => { show.textContent = t('noGps') + ': ' + err.message; }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 });
  } });
  return el('div', { class: 'geobox' }, btn, show, el('button', { type: 'button', class: 'quiet', text: t('clear'), onclick: () => { draw(null); set(undefined); } }));
}

// changedSoon runs the rules 150 ms after the last keystroke; idle runs a
// pending evaluation at once (before moving between pages or finishing).
let typingTimer = null;
function changedSoon() {
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { typingTimer = null; changed(); }, 150);
}
async function idle() {
  if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; await changed(); }
}
window.dotmTest.idle = idle;
// quiet: no screen is loading and the queue is not sending (tests wait for it)
window.dotmTest.quiet = () => app.homeLoading === 0 && !app.syncing;

let stateSeq = 0;
async function changed() {
  const seq = ++stateSeq;
  saveSoon();
  const grown = await refreshState();
  if (seq !== stateSeq) return;
  if (grown) { drawPage(); return; }
  applyState();
}

// applyState shows and hides items by relevance, filters choices, marks
// required questions and writes the problems next to their fields.
function applyState() {
  const st = app.st;
  const root = $('#page');
  if (!root || !st) return;
  for (const n of root.querySelectorAll('[data-path]')) {
    const path = n.dataset.path;
    n.hidden = st.relevant[path] === false;
    if (n.classList.contains('field')) {
      n.classList.toggle('required', !!st.required[path]);
      const allowed = st.choices[path];
      for (const c of n.querySelectorAll('[data-choice]')) {
        const off = allowed !== undefined && !allowed.includes(c.dataset.choice);
        c.hidden = off;
        if (c.tagName === 'OPTION') c.disabled = off;
      }
    }
  }
  const pageIdx = app.page;
  for (const e of root.querySelectorAll('[data-error-for]')) {
    const path = e.dataset.errorFor;
    const ps = app.problems[path] || [];
    const show = ps.length && (app.touched.has(path) || app.showAll.has(pageIdx));
    e.textContent = show ? ps.map((p) => problemText(Object.assign({ path }, p)).message).join(' ') : '';
    const holder = e.closest('[data-path]');
    if (holder) holder.classList.toggle('invalid', !!show);
    const input = holder && holder.querySelector('input, select, textarea');
    if (input) { if (show) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid'); }
  }
  for (const n of root.querySelectorAll('[data-tpl]')) n.textContent = interpolate(n.dataset.tpl, n.dataset.prefix);
  // page links: hide sections that are not relevant
  for (const b of document.querySelectorAll('.pagelink')) {
    const i = Number(b.dataset.page);
    if (i < app.form.pages.length) b.hidden = !pageRelevant(app.form.pages[i]);
  }
}

// ---- the send queue ----
function syncSoon(ms) {
  clearTimeout(app.syncTimer);
  app.syncTimer = setTimeout(sync, ms);
}

function backoff(attempts) {
  const base = Math.min(300, 2 ** Math.min(attempts, 9)); // 2 s, 4 s, … at most 5 min
  return (base * (0.75 + Math.random() * 0.5)) * 1000;
}

function envelope(iv) {
  const e = { instance_id: iv.instance_id, form_id: iv.form_id, form_version: iv.form_version, started_at: iv.started_at, ended_at: iv.ended_at, answers: iv.answers };
  if (iv.assignment_id) e.assignment_id = iv.assignment_id;
  if (iv.supersedes) e.supersedes = iv.supersedes;
  return e;
}

// sync posts every queued interview that is due: one at a time with
// POST /submissions, or in batches of up to 500 with /submissions/batch.
// 201 and 200 are acknowledgements; 409 and 422 stop retrying (the
// interview stays on the tablet with the server's answer); anything else
// (no network, 5xx, 429) is retried with exponential backoff.
async function sync() {
  if (app.syncing || !app.token || !vault.key) return;
  app.syncing = true;
  let sent = 0;
  let next = Infinity;
  let tried = false;
  try {
    const now = Date.now();
    const all = (await db.interviews()).filter((iv) => iv.status === 'queued' || iv.status === 'sending');
    const due = all.filter((iv) => !iv.next_try || iv.next_try <= now);
    for (const iv of all) if (iv.next_try && iv.next_try > now) next = Math.min(next, iv.next_try - now);
    if (due.length && !navigator.onLine) next = Math.min(next, 5000);
    else if (due.length) {
      tried = true;
      for (let i = 0; i < due.length; i += 500) {
        const chunk = due.slice(i, i + 500);
        const out = chunk.length === 1 ? await sendOne(chunk[0]) : await sendBatch(chunk);
        sent += out.sent;
        next = Math.min(next, out.retryIn);
      }
    }
  } finally {
    app.syncing = false;
  }
  if (sent) toast(t('sentToast', sent));
  await purgeSent();
  if (next < Infinity) syncSoon(next);
  drawNet();
  if (tried && !app.iv && app.token && document.querySelector('.home')) showHome(); // the queue's new state
}

async function settle(iv, status, detail, problems) {
  if (status === 201 || status === 200) {
    iv.status = 'sent'; iv.last_error = ''; iv.next_try = null; iv.sent_at = new Date().toISOString();
    await markSent(iv);
    await db.putInterview(iv);
    return { sent: 1, retryIn: Infinity };
  }
  iv.attempts = (iv.attempts || 0) + 1;
  if (status === 409 || status === 422 || status === 403) {
    iv.status = status === 409 ? 'conflict' : 'failed';
    iv.last_error = detail;
    iv.problems = problems && problems.length ? problems : null;
    iv.next_try = null;
    await db.putInterview(iv);
    return { sent: 0, retryIn: Infinity };
  }
  const wait = backoff(iv.attempts);
  iv.status = 'queued'; iv.last_error = detail; iv.next_try = Date.now() + wait;
  await db.putInterview(iv);
  return { sent: 0, retryIn: wait };
}

async function sendOne(iv) {
  let res;
  try {
    res = await api('/submissions', { method: 'POST', body: envelope(iv) });
  } catch (e) {
    return settle(iv, 0, String(e.message || e));
  }
  if (res.status === 401) { await signOut(); return { sent: 0, retryIn: Infinity }; }
  let body = {};
  try { body = await res.json(); } catch (e) { /* empty */ }
  return settle(iv, res.status, body.detail || body.title || res.statusText, body.problems);
}

async function sendBatch(ivs) {
  let res;
  try {
    res = await api('/submissions/batch', { method: 'POST', body: { submissions: ivs.map(envelope) } });
  } catch (e) {
    let retryIn = Infinity;
    for (const iv of ivs) retryIn = Math.min(retryIn, (await settle(iv, 0, String(e.message || e))).retryIn);
    return { sent: 0, retryIn };
  }
  if (res.status === 401) { await signOut(); return { sent: 0, retryIn: Infinity }; }
  let body = {};
  try { body = await res.json(); } catch (e) { /* empty */ }
  let sent = 0; let retryIn = Infinity;
  for (let i = 0; i < ivs.length; i++) {
    const r = res.ok && body.results ? body.results.find((x) => x.index === i) : null;
    const out = r ? await settle(ivs[i], r.status, r.detail || r.result, r.problems) : await settle(ivs[i], res.status, body.detail || res.statusText);
    sent += out.sent; retryIn = Math.min(retryIn, out.retryIn);
  }
  return { sent, retryIn };
}

start().catch((e) => { console.error(e); $('#app').replaceChildren(el('p', { class: 'error', text: String(e) })); });
