// The Take-a-message screen: client chosen by a call (screen pop) or by
// typing, the client's header (greeting, local time, open or closed, on
// call), its instructions, the form, the live route preview, and Send /
// Dispatch with an idempotency key per submission.

import { get, getQuiet, post, newKey } from './api.js';
import { normalisePhone, digits } from './phone.js';
import { clientTime, clockIn, span, mmss, el, $ } from './fmt.js';

const S = {
  clients: [],          // GET /v1/clients
  client: null,         // GET /v1/clients/{id} of the client shown
  call: null,           // {dnis, ani, at (ms), client} of the call being taken
  waiting: null,        // a call that rang in while a draft was open
  dirty: false,         // the operator typed something not yet sent
  key: null,            // Idempotency-Key of the submission being made
  keyBody: null,        // the body it was made for: an edited body is
                        // another message, with a key of its own (the
                        // server refuses a key reused for another body)
  inFlight: false,      // a POST /v1/messages is on its way
  sentPristine: false,  // sent, and nothing typed since: a repeat press is the same press
  lastStatus: null,     // what the status line said after the last send
  active: -1,           // highlighted option in the client list
  matches: [],
  previewSeq: 0,
  sentAfter: null,      // call timer stopped at send
  lastSentId: null,     // the message the progress line follows
};

const FIXED = {
  'caller.name': 'f-caller-name',
  'caller.phone': 'f-caller-phone',
  'caller.company': 'f-caller-company',
  caller: 'f-caller-name',
  text: 'f-text',
  urgency: 'u-routine',
  client: 'client',
  dnis: 'client',
};
const LABEL = {
  'caller.name': 'Caller name', 'caller.phone': 'Callback number', 'caller.company': 'Company',
  text: 'Message', urgency: 'Urgency', client: 'Client',
};

// ---------------------------------------------------------------- setup

const IDLE = { title: '', text: '' };

export function initTake() {
  IDLE.title = $('no-client-title').textContent;
  IDLE.text = $('no-client-text').textContent;
  const input = $('client');
  input.addEventListener('input', () => openList(input.value));
  input.addEventListener('keydown', comboKey);
  input.addEventListener('focus', () => input.select());
  input.addEventListener('blur', () => setTimeout(closeList, 120));
  $('client-list').addEventListener('mousedown', (e) => {
    const li = e.target.closest('[role=option]');
    if (!li) return;
    e.preventDefault();
    pickClient(li.dataset.id);
  });

  const form = $('msg-form');
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('input', (e) => {
    maybeRefresh();
    S.dirty = true;
    S.sentPristine = false;
    const f = e.target.closest('.field');
    if (f) clearFieldError(f.dataset.path);
    if ($('status').classList.contains('error') && !document.querySelector('#msg-form .field.invalid')) setStatus('', '');
  });
  form.addEventListener('change', (e) => {
    if (e.target.name === 'urgency') { markUrgency(); preview(); }
  });
  form.querySelectorAll('input[name=urgency]').forEach((r) => r.addEventListener('keydown', urgencyKey));
  const phone = $('f-caller-phone');
  phone.addEventListener('input', showReadback);
  phone.addEventListener('blur', () => {
    const n = normalisePhone(phone.value);
    if (n !== phone.value) phone.value = n;
    showReadback();
  });
  $('send').addEventListener('click', () => submit('message'));
  $('dispatch').addEventListener('click', () => submit('dispatch'));
  $('waiting-take').addEventListener('click', takeWaiting);
  $('waiting-dismiss').addEventListener('click', () => { S.waiting = null; $('waiting').hidden = true; });
  markUrgency();
  form.addEventListener('focusin', maybeRefresh);
  setInterval(tick, 1000);
}

// The header (open or closed, on call) is fetched again when the operator
// works on the form and it is over a minute old - never on a timer, so an
// unattended console still reaches the session's idle limit.
let fetchedAt = 0;
function maybeRefresh() {
  if (S.client && Date.now() - fetchedAt > 60000) refreshClient();
}

// Everything the screen shows, fetched again (after sign-in, or an
// event-stream reset).
export async function refreshAll() {
  await loadClients();
  if (S.client) await refreshClient();
}

async function loadClients() {
  try {
    const r = await get('/v1/clients');
    S.clients = (r.body && r.body.clients) || [];
  } catch (e) {
    if (e.status !== 401) setStatus('error', `Could not load the client list: ${e.message}`);
  }
}

async function refreshClient() {
  if (!S.client) return;
  try {
    const r = await get(`/v1/clients/${encodeURIComponent(S.client.id)}`);
    S.client = r.body;
    fetchedAt = Date.now();
    renderHeader();
    preview();
  } catch { /* shown on the next action */ }
}

// ---------------------------------------------------------------- client chooser

function matchClients(q) {
  const t = q.trim().toLowerCase();
  if (!t) return S.clients.slice();
  const d = digits(t);
  const scored = [];
  for (const c of S.clients) {
    const name = (c.name || '').toLowerCase();
    const id = (c.id || '').toLowerCase();
    let score = 0;
    if (name.startsWith(t) || id.startsWith(t)) score = 3;
    else if (name.split(/[\s&,.-]+/).some((w) => w.startsWith(t))) score = 2;
    else if (name.includes(t) || id.includes(t)) score = 1;
    const nums = (c.dnis || []).map(digits);
    if (d.length >= 3 && nums.some((n) => n.includes(d))) score = Math.max(score, 3);
    if (d.length >= 7 && nums.some((n) => n === d || n.endsWith(d) || d.endsWith(n))) score = 4;
    if (score) scored.push([score, c]);
  }
  scored.sort((a, b) => b[0] - a[0]);
  return scored.map((x) => x[1]);
}

function openList(q) {
  S.matches = matchClients(q).slice(0, 12);
  S.active = S.matches.length ? 0 : -1;
  renderList();
}

function renderList() {
  const ul = $('client-list');
  const input = $('client');
  ul.replaceChildren();
  if (!S.matches.length) {
    ul.append(el('li', { class: 'none', 'aria-disabled': 'true', role: 'option' },
      S.clients.length ? 'No client matches' : 'No clients'));
  }
  S.matches.forEach((c, i) => {
    const nums = (c.dnis || []).map((n) => normalisePhone(n)).join(', ');
    ul.append(el('li', {
      role: 'option', id: `opt-${i}`, 'data-id': c.id,
      'aria-selected': i === S.active ? 'true' : 'false',
      class: i === S.active ? 'active' : '',
    }, el('span', { class: 'opt-name', text: c.name }),
    el('span', { class: 'opt-meta', text: `${c.id}${nums ? ` · ${nums}` : ''}` })));
  });
  ul.hidden = false;
  input.setAttribute('aria-expanded', 'true');
  if (S.active >= 0) input.setAttribute('aria-activedescendant', `opt-${S.active}`);
  else input.removeAttribute('aria-activedescendant');
  const a = $(`opt-${S.active}`);
  if (a) a.scrollIntoView({ block: 'nearest' });
}

function closeList() {
  const ul = $('client-list');
  const input = $('client');
  ul.hidden = true;
  input.setAttribute('aria-expanded', 'false');
  input.removeAttribute('aria-activedescendant');
  if (document.activeElement !== input) input.value = S.client ? S.client.name : '';
}

function comboKey(e) {
  const open = !$('client-list').hidden;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    if (!open) { openList($('client').value === (S.client && S.client.name) ? '' : $('client').value); return; }
    const n = S.matches.length;
    if (!n) return;
    S.active = (S.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
    renderList();
  } else if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    if (!open) openList($('client').value);
    const c = S.matches[S.active];
    if (c) pickClient(c.id);
  } else if (e.key === 'Escape' && open) {
    e.preventDefault();
    e.stopPropagation();
    $('client').value = S.client ? S.client.name : '';
    closeList();
  }
}

async function pickClient(id) {
  closeList();
  await showClient(id);
  focusFirstEmpty();
}

export function focusClient() {
  const input = $('client');
  input.focus();
  input.select();
}

// ---------------------------------------------------------------- the client's header

async function showClient(id) {
  let c;
  try {
    c = (await get(`/v1/clients/${encodeURIComponent(id)}`)).body;
  } catch (e) {
    if (e.status !== 401) setStatus('error', `Could not open client ${id}: ${e.message}`);
    return false;
  }
  const changed = !S.client || S.client.id !== c.id;
  S.client = c;
  fetchedAt = Date.now();
  $('client').value = c.name;
  $('no-client').hidden = true;
  $('no-client').classList.remove('unknown');
  $('client-view').hidden = false;
  renderHeader();
  renderFields(c.fields || [], changed);
  preview();
  return true;
}

function renderHeader() {
  const c = S.client;
  $('greeting').textContent = c.greeting || `Thank you for calling ${c.name}. How may I help you?`;
  $('tz').textContent = c.timezone || '';
  const hours = $('hours');
  hours.classList.remove('open', 'closed', 'holiday');
  if (c.open) {
    hours.textContent = 'Open'; hours.classList.add('open');
    $('hours-next').textContent = '';
  } else {
    hours.textContent = c.holiday ? 'Closed: holiday' : 'Closed';
    hours.classList.add(c.holiday ? 'holiday' : 'closed');
    $('hours-next').textContent = c.next_open ? `opens ${clientTime(c.next_open, c.timezone)}` : '';
  }
  const oc = $('oncall');
  oc.replaceChildren();
  const rots = c.oncall || [];
  if (!rots.length) oc.append(el('span', { class: 'muted', text: 'no rotation' }));
  for (const r of rots) {
    const now = r.now ? r.now.name || r.now.contact : 'nobody';
    const next = r.next ? r.next.name || r.next.contact : null;
    oc.append(el('span', { class: 'rot' },
      rots.length > 1 ? el('span', { class: 'muted', text: `${r.rotation}: ` }) : null,
      el('strong', { text: now }), ' now',
      next ? el('span', { class: 'muted', text: ` · then ${next}${r.until ? ` from ${clientTime(r.until, c.timezone)}` : ''}` }) : null));
  }
  const ib = $('instructions-box');
  ib.hidden = !c.instructions;
  $('instructions').textContent = c.instructions || '';
  tick();
}

// The client's own fields, after Company; values typed into a field the
// new client also has are kept (the operator picked the wrong client).
function renderFields(fields, changed) {
  const box = $('client-fields');
  const keep = {};
  box.querySelectorAll('input').forEach((i) => { keep[i.dataset.field] = i.value; });
  if (!changed && box.childElementCount === fields.length) return;
  box.replaceChildren();
  for (const f of fields) {
    const id = `f-field-${f.id}`;
    const input = el('input', {
      id, name: `fields.${f.id}`, 'data-field': f.id, autocomplete: 'off',
      'aria-required': f.required ? 'true' : false, required: !!f.required,
    });
    if (keep[f.id]) input.value = keep[f.id];
    box.append(el('div', { class: 'field', 'data-path': `fields.${f.id}` },
      el('label', { for: id, text: f.label || f.id }),
      f.required ? el('span', { class: 'req', 'aria-hidden': 'true', text: '*' }) : null,
      input,
      el('p', { class: 'err', id: `e-field-${f.id}`, hidden: true })));
  }
}

function tick() {
  const c = S.client;
  if (c) $('local-time').textContent = clockIn(c.timezone || 'UTC');
  if (S.call) {
    $('call-timer').textContent = S.sentAfter !== null
      ? `sent ${mmss(S.sentAfter)} into the call` : mmss(Date.now() - S.call.at);
  }
}

// ---------------------------------------------------------------- screen pop

// A call offered to this console: {dnis, ani, client (id or null), at}.
// With a draft open, or when the operator is on another screen (wait), it
// waits for F2 instead of throwing the draft or the work away.
export function pop(call, wait = false) {
  if (wait || hasDraft()) {
    S.waiting = call;
    const who = call.client ? clientName(call.client) : `number ${normalisePhone(call.dnis)}`;
    $('waiting-text').textContent = `Call waiting for ${who}${call.ani ? ` from ${normalisePhone(call.ani)}` : ''}.`;
    $('waiting').hidden = false;
    return;
  }
  applyPop(call);
}

export function takeWaiting() {
  if (!S.waiting) return false;
  const call = S.waiting;
  S.waiting = null;
  $('waiting').hidden = true;
  applyPop(call);
  return true;
}

export function clientName(id) {
  const c = S.clients.find((x) => x.id === id);
  return c ? c.name : id;
}

function clientForDnis(dnis) {
  const d = digits(dnis);
  if (!d) return null;
  const tail = d.slice(-10);
  const c = S.clients.find((x) => (x.dnis || []).some((n) => digits(n) === d || digits(n).slice(-10) === tail));
  return c ? c.id : null;
}

async function applyPop(call) {
  if (!S.clients.length) await loadClients();
  const id = call.client || clientForDnis(call.dnis);
  resetForm();
  setStatus('', '');
  S.lastSentId = null;
  S.lastStatus = null;
  $('progress').hidden = true;
  S.call = { ...call, at: call.at ? Date.parse(call.at) || Date.now() : Date.now() };
  S.sentAfter = null;
  const ani = call.ani ? normalisePhone(call.ani) : '';
  $('call').hidden = false;
  $('call-from').replaceChildren(
    el('strong', { text: ani || 'unknown number' }),
    el('span', { class: 'muted', text: call.dnis ? ` on ${normalisePhone(call.dnis)}` : '' }));
  $('f-caller-phone').value = ani;
  showReadback();
  tick();
  if (id && await showClient(id)) {
    focusFirstEmpty();
  } else {
    S.client = null;
    $('client-view').hidden = true;
    $('no-client').hidden = false;
    $('client').value = '';
    $('no-client').classList.add('unknown');
    $('no-client-title').textContent = `No client has the number ${normalisePhone(call.dnis || '') || '(none)'}.`;
    $('no-client-text').textContent = 'Ask the caller which business they called, then type its name, id or number in Client and press Enter.';
    focusClient();
    openList('');
  }
}

// Caller name first, or the first empty field after it.
function focusFirstEmpty() {
  const order = formFields();
  const f = order.find((i) => !i.value.trim()) || $('f-caller-name');
  f.focus();
}

// ---------------------------------------------------------------- the form

function formFields() {
  return [$('f-caller-name'), $('f-caller-phone'), $('f-caller-company'),
    ...$('client-fields').querySelectorAll('input'), $('f-text')];
}

function urgency() {
  const r = document.querySelector('input[name=urgency]:checked');
  return r ? r.value : 'routine';
}

function markUrgency() {
  const u = urgency();
  $('msg-form').dataset.urgency = u;
}

const URGENCY_KEYS = { KeyR: 'routine', KeyU: 'urgent', KeyE: 'emergency' };
function urgencyKey(e) {
  if (e.ctrlKey || e.altKey || e.metaKey) return;
  const u = URGENCY_KEYS[e.code] || { r: 'routine', u: 'urgent', e: 'emergency' }[e.key.toLowerCase()];
  if (!u) return;
  e.preventDefault();
  const r = $(`u-${u}`);
  r.checked = true;
  r.focus();
  r.dispatchEvent(new Event('change', { bubbles: true }));
  S.dirty = true; S.sentPristine = false;
}

function showReadback() {
  const v = $('f-caller-phone').value;
  const n = normalisePhone(v);
  const rb = $('readback');
  if (!n) { rb.textContent = ''; return; }
  const short = digits(n).length < 7;
  rb.replaceChildren(el('span', { class: 'muted', text: 'Read back ' }), el('strong', { text: n }),
    short ? el('span', { class: 'warn', text: ' · short: check it' }) : '');
}

function resetForm() {
  for (const i of formFields()) i.value = '';
  $('u-routine').checked = true;
  markUrgency();
  $('readback').textContent = '';
  clearErrors();
  S.dirty = false;
  S.sentPristine = false;
  S.key = null;
  S.keyBody = null;
  preview();
}

function fieldFor(path) {
  if (FIXED[path]) return $(FIXED[path]);
  if (path.startsWith('fields.')) return $(`f-field-${path.slice(7)}`);
  return null;
}

function labelFor(path) {
  if (LABEL[path]) return LABEL[path];
  const input = fieldFor(path);
  const lab = input && input.labels && input.labels[0];
  return lab ? lab.textContent : path;
}

function errFor(path) {
  const input = fieldFor(path);
  if (!input) return null;
  const f = input.closest('.field');
  return f ? f.querySelector('.err') : null;
}

function showFieldError(path, message) {
  const input = fieldFor(path);
  const err = errFor(path);
  if (!input || !err) return false;
  err.textContent = message;
  err.hidden = false;
  const target = path === 'urgency' ? input.closest('fieldset') : input;
  target.setAttribute('aria-invalid', 'true');
  const ids = new Set((target.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
  ids.add(err.id);
  target.setAttribute('aria-describedby', [...ids].join(' '));
  target.closest('.field').classList.add('invalid');
  return true;
}

function clearFieldError(path) {
  const err = errFor(path);
  const input = fieldFor(path);
  if (!err || !input) return;
  err.hidden = true;
  err.textContent = '';
  const target = path === 'urgency' ? input.closest('fieldset') : input;
  target.removeAttribute('aria-invalid');
  const ids = (target.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== err.id);
  if (ids.length) target.setAttribute('aria-describedby', ids.join(' '));
  else target.removeAttribute('aria-describedby');
  target.closest('.field').classList.remove('invalid');
}

function clearErrors() {
  document.querySelectorAll('#msg-form .field').forEach((f) => clearFieldError(f.dataset.path));
}

function firstMissing() {
  for (const i of formFields()) {
    if (i.getAttribute('aria-required') === 'true' && !i.value.trim()) return i;
  }
  return null;
}

function pathOf(input) { return input.closest('.field').dataset.path; }

function body(kind) {
  const fields = {};
  $('client-fields').querySelectorAll('input').forEach((i) => {
    if (i.value.trim()) fields[i.dataset.field] = i.value.trim();
  });
  const phone = normalisePhone($('f-caller-phone').value);
  $('f-caller-phone').value = phone;
  const caller = { name: $('f-caller-name').value.trim(), phone };
  const company = $('f-caller-company').value.trim();
  if (company) caller.company = company;
  return { client: S.client.id, kind, urgency: urgency(), caller, text: $('f-text').value.trim(), fields };
}

// Send (kind "message") or Dispatch (kind "dispatch").
export async function submit(kind) {
  if (S.inFlight) return;                       // the first press is on its way
  if (S.sentPristine && S.lastStatus) {         // pressed again after it was stored
    setStatus(...S.lastStatus);
    $('status').focus();
    return;
  }
  if (!S.client) {
    setStatus('error', 'Not sent: choose a client first.');
    focusClient();
    return;
  }
  clearErrors();
  const missing = firstMissing();
  if (missing) {
    const path = pathOf(missing);
    const label = labelFor(path);
    showFieldError(path, `${label} is required.`);
    setStatus('error', `Not sent: ${label} is required.`);
    missing.focus();
    return;
  }
  const b = body(kind);
  const sentBody = JSON.stringify(b);
  if (!S.key || S.keyBody !== sentBody) {       // kept until this submission is stored
    S.key = newKey();
    S.keyBody = sentBody;
  }
  S.inFlight = true;
  busy(true);
  setStatus('busy', kind === 'dispatch' ? 'Dispatching…' : 'Sending…');
  $('progress').hidden = true;
  try {
    const r = await post('/v1/messages', b, { 'Idempotency-Key': S.key });
    sent(r.body, kind);
  } catch (e) {
    failed(e);
  } finally {
    S.inFlight = false;
    busy(false);
  }
}

function busy(on) {
  for (const b of [$('send'), $('dispatch')]) b.setAttribute('aria-disabled', on ? 'true' : 'false');
  $('msg-form').classList.toggle('busy', on);
}

function sent(m, kind) {
  const callMs = S.call ? Date.now() - S.call.at : null;
  resetForm();
  S.sentPristine = true;
  if (S.call && S.sentAfter === null) S.sentAfter = callMs;
  tick();
  const ref = String(m.ack_ref || '');
  const parts = [
    el('strong', { text: kind === 'dispatch' ? 'Dispatched.' : 'Sent.' }), ' ',
    'Message ', el('strong', { class: 'num', text: String(m.id) }),
    ref ? ' · give the caller reference ' : '',
    ref ? el('span', { class: 'ref' }, el('span', { text: ref.slice(0, 3) }), el('span', { text: ref.slice(3) })) : '',
  ];
  const held = (m.deliveries || []).filter((d) => d.state === 'held').length;
  if (held) parts.push(el('span', { class: 'muted', text: ` · ${held} held until the client opens` }));
  if (!(m.deliveries || []).length) parts.push(el('span', { class: 'muted', text: ' · no one to page: stored unrouted' }));
  S.lastStatus = ['ok', parts];
  setStatus('ok', parts);
  S.lastSentId = m.id;
  renderProgress(m);
  messageChanged(m.id);     // its first events may have come before this answer
  $('status').focus();
}

// ---------------------------------------------------------------- what became of it

const STATE_WORD = {
  queued: 'queued', sending: 'sending', sent: 'sent', delivered: 'delivered', failed: 'failed',
  held: 'held', cancelled: 'cancelled', waiting: 'in the mailbox',
};
let progressTimer = null;

// An event-stream change to a message: follow the one just sent.
export function messageChanged(id) {
  if (!S.lastSentId || Number(id) !== S.lastSentId) return;
  clearTimeout(progressTimer);
  progressTimer = setTimeout(async () => {
    try { renderProgress((await getQuiet(`/v1/messages/${S.lastSentId}`)).body); } catch { /* next event */ }
  }, 150);
}

function renderProgress(m) {
  const p = $('progress');
  const ds = m.deliveries || [];
  if (!ds.length || m.id !== S.lastSentId) { p.hidden = true; return; }
  const kids = [];
  ds.forEach((d, i) => {
    const word = STATE_WORD[d.state] || d.state;
    const cls = d.state === 'sent' || d.state === 'delivered' ? 'good' : d.state === 'failed' ? 'bad' : '';
    kids.push(i ? ' · ' : '', `${d.contact_name || d.contact} (${d.channel}) `, el('span', { class: cls, text: word }));
  });
  p.replaceChildren(`Message ${m.id}: `, ...kids);
  p.hidden = false;
}

// Signed out: nothing of this operator's call stays on the screen.
export function clearTake() {
  resetForm();
  S.client = null; S.call = null; S.waiting = null; S.lastSentId = null; S.lastStatus = null;
  $('client').value = '';
  $('call').hidden = true;
  $('waiting').hidden = true;
  $('client-view').hidden = true;
  $('no-client').hidden = false;
  $('no-client').classList.remove('unknown');
  $('no-client-title').textContent = IDLE.title;
  $('no-client-text').textContent = IDLE.text;
  $('progress').hidden = true;
  setStatus('', '');
}

function failed(e) {
  if (e.status === 0 || e.status === 502 || e.status === 504) {
    setStatus('error', 'Not confirmed: the server did not answer. Press Send again: it is the same submission and cannot be stored twice.');
    return;
  }
  if (e.status === 401) {                       // app.js shows the sign-in; the draft is kept
    setStatus('error', 'Not sent: your session ended. Sign in, then press Send again.');
    return;
  }
  // The API names the field by its JSON path ("caller.phone must ..."):
  // say it with the label the operator sees.
  const msg = e.field && e.message.startsWith(e.field)
    ? labelFor(e.field) + e.message.slice(e.field.length).replace(/^ \([^)]*\)/, '') : e.message;
  if (e.field && showFieldError(e.field, msg)) {
    setStatus('error', `Not sent: ${msg}.`.replace(/\.\.$/, '.'));
    const f = fieldFor(e.field);
    if (f) f.focus();
    return;
  }
  setStatus('error', `Not sent: ${e.message}${e.status === 503 && e.retryAfter ? ` (try again in ${e.retryAfter} s)` : ''}`);
}

function setStatus(kind, content) {
  const st = $('status');
  st.className = `status${kind ? ` ${kind}` : ''}`;
  if (Array.isArray(content)) st.replaceChildren(...content.map((x) => (typeof x === 'string' ? x : x.cloneNode(true))));
  else st.textContent = content;
}

// ---------------------------------------------------------------- route preview

let previewTimer = null;
function preview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, 120);
}

async function runPreview() {
  const c = S.client;
  if (!c) return;
  const seq = ++S.previewSeq;
  const u = urgency();
  const [m, d] = await Promise.allSettled([
    post('/v1/route/preview', { client: c.id, kind: 'message', urgency: u }),
    post('/v1/route/preview', { client: c.id, kind: 'dispatch', urgency: u }),
  ]);
  if (seq !== S.previewSeq) return;             // a newer preview is on its way
  renderSendPreview(m, u, c);
  renderDispatchPreview(d, c);
}

function who(d) {
  return el('span', { class: 'who-name', text: d.contact_name || d.contact });
}

function renderSendPreview(res, u, c) {
  const box = $('preview-send');
  const head = el('h3', {}, 'Send', el('span', { class: `u-tag ${u}`, text: u }));
  if (res.status !== 'fulfilled') { box.replaceChildren(head, el('p', { class: 'muted', text: res.reason.message })); return; }
  const p = res.value.body;
  const list = el('ul', { class: 'plan' });
  for (const d of p.deliveries || []) {
    const when = d.hold_until ? el('span', { class: 'held', text: `held until ${clientTime(d.hold_until, c.timezone)}` })
      : el('span', { class: 'now', text: 'now' });
    list.append(el('li', {}, who(d), el('span', { class: 'chan', text: `${d.channel} ${d.to || ''}` }), when));
  }
  if (!(p.deliveries || []).length) list.append(el('li', { class: 'muted', text: 'No rule matches: stored, nobody paged.' }));
  box.replaceChildren(head, list);
}

function renderDispatchPreview(res, c) {
  const box = $('preview-dispatch');
  const head = el('h3', {}, 'Dispatch');
  if (res.status !== 'fulfilled') { box.replaceChildren(head, el('p', { class: 'muted', text: res.reason.message })); return; }
  const p = res.value.body;
  const esc = p.escalation;
  if (!esc) {
    box.replaceChildren(head, el('p', { class: 'muted', text: 'No escalation for this client: the same as Send.' }));
    return;
  }
  const steps = esc.steps || [];
  const perRound = esc.repeat ? Math.max(1, Math.round(steps.length / esc.repeat)) : steps.length;
  const list = el('ol', { class: 'plan steps' });
  const t0 = steps.length ? Date.parse(steps[0].at) : Date.now();
  for (const s of steps.slice(0, perRound)) {
    const names = (s.deliveries || []).map((d) => d.contact_name || d.contact).join(', ') || 'nobody';
    const at = Date.parse(s.at) - t0;
    list.append(el('li', {}, el('span', { class: 'who-name', text: names }),
      el('span', { class: 'chan', text: at > 0 ? `after ${span(at / 1000)}` : 'now' })));
  }
  const tail = [];
  if (esc.repeat > 1) tail.push(`${esc.repeat} rounds`);
  if (esc.unacknowledged_at) tail.push(`unacknowledged after ${span((Date.parse(esc.unacknowledged_at) - t0) / 1000)}`);
  box.replaceChildren(el('h3', {}, 'Dispatch', el('span', { class: 'muted', text: ` escalates (${esc.policy}) until acknowledged` })),
    list, tail.length ? el('p', { class: 'muted small', text: tail.join(' · ') }) : '');
}

// ---------------------------------------------------------------- for app.js

// Something typed and not sent: a call that rings in must not wipe it.
export function hasDraft() {
  if (!S.dirty || S.sentPristine) return false;
  const popped = S.call && S.call.ani ? normalisePhone(S.call.ani) : '';
  return formFields().some((i) => (i.id === 'f-caller-phone'
    ? i.value.trim() && normalisePhone(i.value) !== popped : i.value.trim()));
}
export function clientShown() { return S.client; }
