// The console's entry: who is signed in, which screen shows, the live
// event stream, and the keys that work everywhere.

import { get, post, del, setCsrf, whenSignedOut } from './api.js';
import { initTake, refreshAll, pop, submit, focusClient, takeWaiting, messageChanged, clearTake } from './take.js';
import { $ } from './fmt.js';

const app = { operator: null, stream: null, retry: 0, retryTimer: null, urlCall: null };

// ---------------------------------------------------------------- screens

function show(screen) {
  $('signin').hidden = screen !== 'signin';
  $('take').hidden = screen !== 'take';
  $('bar-title').textContent = screen === 'signin' ? 'Sign in' : 'Take a message';
  document.title = screen === 'signin' ? 'Sign in · pagegate' : 'Take a message · pagegate';
  const signedIn = screen !== 'signin';
  $('signout').hidden = !signedIn;
  $('who').hidden = !signedIn;
  $('live').hidden = !signedIn;
  $('keys-button').hidden = !signedIn;
}

function showSignin(why) {
  stopStream();
  if (app.operator) $('op').value = app.operator;
  app.operator = null;
  setCsrf('');
  show('signin');
  $('signin-why').textContent = why || '';
  $('signin-why').hidden = !why;
  $('signin-err').hidden = true;
  $('token').value = '';
  ($('op').value ? $('token') : $('op')).focus();
}

async function signedIn(session) {
  app.operator = session.operator;
  setCsrf(session.csrf);
  $('who').textContent = session.operator;
  show('take');
  startStream();
  await refreshAll();
  if (app.urlCall) {                    // /?dnis=...&ani=... from a softphone
    const call = app.urlCall;
    app.urlCall = null;
    history.replaceState(null, '', '/');
    pop(call);
  } else if (!document.activeElement || document.activeElement === document.body) {
    focusClient();
  }
}

// ---------------------------------------------------------------- sign in / out

async function signIn(e) {
  e.preventDefault();
  const operator = $('op').value.trim();
  const token = $('token').value;
  const err = $('signin-err');
  err.hidden = true;
  if (!operator || !token) {
    err.textContent = !operator ? 'Operator is required.' : 'Token is required.';
    err.hidden = false;
    (!operator ? $('op') : $('token')).focus();
    return;
  }
  const btn = $('signin-btn');
  btn.setAttribute('aria-disabled', 'true');
  try {
    const r = await post('/v1/session', { operator, token });
    await signedIn(r.body);
  } catch (x) {
    if (x.status === 429) err.textContent = `Too many failed sign-ins. Try again in ${x.retryAfter || 60} s.`;
    else if (x.status === 401) err.textContent = 'Wrong operator or token.';
    else err.textContent = `Could not sign in: ${x.message}`;
    err.hidden = false;
    $('token').select();
    $('token').focus();
  } finally {
    btn.setAttribute('aria-disabled', 'false');
  }
}

async function signOut() {
  try { await del('/v1/session'); } catch { /* the session is gone either way */ }
  clearTake();
  showSignin('Signed out.');
}

// ---------------------------------------------------------------- live events

function live(state, text) {
  const l = $('live');
  l.className = `live ${state}`;
  $('live-text').textContent = text;
}

// EventSource reconnects by itself after a dropped connection (sending
// Last-Event-ID, so the server replays what was missed).  When the server
// refuses the stream (401, 503 ...) the browser gives up: then check the
// session and open a new stream with a growing delay, refetching what is
// shown since a new stream cannot resume.
function startStream() {
  stopStream();
  const es = new EventSource('/v1/events');
  app.stream = es;
  live('connecting', 'Connecting');
  es.addEventListener('open', () => { app.retry = 0; live('up', 'Live'); });
  es.addEventListener('call', (ev) => {
    let call;
    try { call = JSON.parse(ev.data); } catch { return; }
    pop(call);
  });
  es.addEventListener('message', (ev) => {
    try { messageChanged(JSON.parse(ev.data).id); } catch { /* not for us */ }
  });
  es.addEventListener('reset', () => refreshAll());
  es.addEventListener('error', () => {
    if (es !== app.stream) return;
    if (es.readyState === EventSource.CONNECTING) { live('down', 'Reconnecting'); return; }
    live('down', 'Offline');
    es.close();
    app.stream = null;
    const delay = Math.min(30000, 1000 * 2 ** app.retry++);
    app.retryTimer = setTimeout(async () => {
      try {
        await get('/v1/session');
      } catch (x) {
        if (x.status === 401) { showSignin('Your session ended. Sign in again; the form keeps what you typed.'); return; }
      }
      if (app.operator) { startStream(); refreshAll(); }
    }, delay);
  });
}

function stopStream() {
  clearTimeout(app.retryTimer);
  if (app.stream) app.stream.close();
  app.stream = null;
}

// ---------------------------------------------------------------- keys

function inTextField(t) {
  if (!t || !t.tagName) return false;
  if (t.isContentEditable || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  if (t.tagName !== 'INPUT') return false;
  return !['radio', 'checkbox', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(t.type);
}

function keys(e) {
  const dialog = $('keys');
  if (dialog.open) return;                      // Esc closes it natively
  const onTake = !$('take').hidden;
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.altKey && onTake) {
    e.preventDefault();
    submit(e.shiftKey ? 'dispatch' : 'message');
  } else if ((e.key === 'k' || e.key === 'K' || e.code === 'KeyK') && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && onTake) {
    e.preventDefault();
    focusClient();
  } else if (e.key === 'F2' && onTake) {
    if (takeWaiting()) e.preventDefault();
  } else if (e.key === '?' && !e.ctrlKey && !e.altKey && !e.metaKey && !inTextField(e.target)) {
    e.preventDefault();
    openKeys();
  }
}

function openKeys() {
  const d = $('keys');
  if (!d.open) d.showModal();
  $('keys-close').focus();
}

// ---------------------------------------------------------------- start

async function start() {
  const q = new URLSearchParams(location.search);
  if (q.get('dnis')) app.urlCall = { dnis: q.get('dnis'), ani: q.get('ani') || '', client: null, at: new Date().toISOString() };
  whenSignedOut(() => showSignin('Your session ended. Sign in again; the form keeps what you typed.'));
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('keys-button').addEventListener('click', openKeys);
  document.addEventListener('keydown', keys);
  initTake();
  try {
    const r = await get('/v1/session');
    await signedIn(r.body);
  } catch {
    showSignin('');
  }
}

start();
