// The console's entry: who is signed in, which screen shows (the URL's
// hash: #take, #board, #message/42), the live event stream and who hears
// it, and the keys that work everywhere.

import { get, getQuiet, post, del, setCsrf, whenSignedOut } from './api.js';
import { initTake, refreshAll, pop, submit, focusClient, takeWaiting, messageChanged, clearTake } from './take.js';
import { initBoard, showBoard, hideBoard, boardChanged, boardKey, clearBoard, boardOrder, feedsAlarm, refresh as refreshBoard } from './board.js';
import { initMessage, showMessage, hideMessage, messageScreenChanged, messageAttentionChanged, messageKey, clearMessage } from './message.js';
import { initAlarm, startAlarm, stopAlarm, alarmChanged, attention, fromBoard, refresh as refreshAlarm } from './alarm.js';
import { silence, actionPanel } from './actions.js';
import { $ } from './fmt.js';

const app = { operator: null, stream: null, retry: 0, retryTimer: null, urlCall: null, screen: 'signin', clients: new Map() };

// ---------------------------------------------------------------- screens

const SCREENS = ['signin', 'take', 'board', 'message'];
const TITLES = { signin: 'Sign in', take: 'Take a message', board: 'Board', message: 'Message' };

function show(screen) {
  const was = app.screen;
  app.screen = screen;
  for (const s of SCREENS) $(s).hidden = s !== screen;
  $('bar-title').textContent = TITLES[screen];
  document.title = `${TITLES[screen]} · pagegate`;
  const signedIn = screen !== 'signin';
  $('bar-title').hidden = signedIn;
  $('nav').hidden = !signedIn;
  $('signout').hidden = !signedIn;
  $('who').hidden = !signedIn;
  $('live').hidden = !signedIn;
  $('keys-button').hidden = !signedIn;
  if (!signedIn) { $('alarm').hidden = true; $('alerts-on').hidden = true; }
  const navTake = $('nav-take');
  const navBoard = $('nav-board');
  if (screen === 'take') navTake.setAttribute('aria-current', 'page'); else navTake.removeAttribute('aria-current');
  if (screen === 'board' || screen === 'message') navBoard.setAttribute('aria-current', 'page'); else navBoard.removeAttribute('aria-current');
  if (was === 'board' && screen !== 'board') hideBoard();
  if (was === 'message' && screen !== 'message') hideMessage();
}

// The screen the URL names: #board, #message/42, else Take a message.
function route() {
  if (!app.operator) return;
  const h = location.hash;
  const m = h.match(/^#message\/(\d+)$/);
  if (m) {
    show('message');
    showMessage(Number(m[1]));
  } else if (h === '#board') {
    show('board');
    showBoard();
  } else {
    const was = app.screen;
    show('take');
    if (was !== 'take' && was !== 'signin') focusClient();
  }
}

// Going to a screen by key or from a row: shown at once, and the URL
// follows (so Back and a reload keep the screen) without a second route().
function goTo(hash, replace) {
  if (location.hash === hash) return;
  if (replace) history.replaceState(null, '', hash);
  else history.pushState(null, '', hash);
}
const go = {
  take() { show('take'); goTo('#take'); },
  board() { show('board'); showBoard(); goTo('#board'); },
  message(id, replace = false) { show('message'); showMessage(id); goTo(`#message/${id}`, replace); },
};

async function clientInfo(id) {
  if (app.clients.has(id)) return app.clients.get(id);
  try {
    const c = (await get(`/v1/clients/${encodeURIComponent(id)}`)).body;
    app.clients.set(id, c);
    return c;
  } catch { return null; }
}

function showSignin(why) {
  stopStream();
  stopAlarm();
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
  app.clients.clear();
  if (app.urlCall || !/^#(board|message\/\d+)$/.test(location.hash)) show('take');
  startStream();
  startAlarm();
  await refreshAll();
  if (app.urlCall) {                    // /?dnis=...&ani=... from a softphone
    const call = app.urlCall;
    app.urlCall = null;
    history.replaceState(null, '', '/');
    pop(call);
  } else if (app.screen === 'signin' || /^#(board|message\/\d+)$/.test(location.hash)) {
    route();
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
  clearBoard();
  clearMessage();
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
    pop(call, app.screen !== 'take');   // elsewhere it waits for F2
  });
  es.addEventListener('message', (ev) => {
    let id;
    try { id = JSON.parse(ev.data).id; } catch { return; }
    messageChanged(id);
    boardChanged(id);
    messageScreenChanged(id);
    if (!feedsAlarm()) alarmChanged(id);   // else the board's fetch serves the alarm too
  });
  es.addEventListener('reset', () => everything());
  es.addEventListener('error', () => {
    if (es !== app.stream) return;
    if (es.readyState === EventSource.CONNECTING) { live('down', 'Reconnecting'); return; }
    live('down', 'Offline');
    es.close();
    app.stream = null;
    const delay = Math.min(30000, 1000 * 2 ** app.retry++);
    app.retryTimer = setTimeout(async () => {
      try {
        await getQuiet('/v1/session');
      } catch (x) {
        if (x.status === 401) { showSignin('Your session ended. Sign in again; the form keeps what you typed.'); return; }
      }
      if (app.operator) { startStream(); everything(); }
    }, delay);
  });
}

// A new stream cannot replay what was missed: fetch again what is shown.
function everything() {
  refreshAll();
  refreshAlarm();
  if (app.screen === 'board') refreshBoard('live');
  if (app.screen === 'message') route();
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
  if ($('keys').open || $('readout').open) return;    // Esc closes them natively
  const onTake = app.screen === 'take';
  const signedIn = app.screen !== 'signin';
  const ctrl = (e.ctrlKey || e.metaKey) && !e.altKey;
  if (e.key === 'Enter' && ctrl && onTake) {
    e.preventDefault();
    submit(e.shiftKey ? 'dispatch' : 'message');
  } else if ((e.key === 'k' || e.key === 'K' || e.code === 'KeyK') && ctrl && !e.shiftKey && signedIn) {
    e.preventDefault();
    if (!onTake) go.take();
    focusClient();
  } else if ((e.key === 'b' || e.key === 'B' || e.code === 'KeyB') && ctrl && !e.shiftKey && signedIn) {
    e.preventDefault();
    go.board();
  } else if (e.key === 'F2' && signedIn) {
    if (!$('waiting').hidden) {
      e.preventDefault();
      if (!onTake) go.take();
      takeWaiting();
    }
  } else if (e.key === '?' && !e.ctrlKey && !e.altKey && !e.metaKey && !inTextField(e.target) && signedIn) {
    e.preventDefault();
    openKeys();
  } else if (app.screen === 'board') {
    if (boardKey(e)) e.preventDefault();
  } else if (app.screen === 'message') {
    if (messageKey(e)) e.preventDefault();
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
  window.addEventListener('hashchange', route);
  initTake();
  const panel = actionPanel();           // one, on the board or the message screen
  initBoard({ open: (id) => go.message(id), needs: fromBoard, panel });
  initMessage({
    panel,
    back: () => go.board(), open: (id, replace) => go.message(id, replace),
    attention, clientInfo, order: boardOrder,
  });
  initAlarm({
    open: (id) => go.message(id),
    silence: async (row) => {
      if (!row) return;
      try { await silence(row.id); } catch { /* the next refresh shows it */ }
      refreshAlarm();
      if (app.screen === 'board') refreshBoard('now');
      if (app.screen === 'message') messageScreenChanged(row.id);
    },
    changed: () => messageAttentionChanged(),
  });
  try {
    const r = await get('/v1/session');
    await signedIn(r.body);
  } catch {
    showSignin('');
  }
}

start();
