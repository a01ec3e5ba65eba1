// Attention: a message that wants a human now (its escalation ran out and
// nobody acknowledged; "attention": true on the board) sounds in every
// open console and raises a browser notification, again and again, until
// someone acknowledges it or an operator silences it (recorded by the
// server).  The sound is made with the Web Audio API; the notification
// permission is asked from a button (a user gesture), as browsers require.
// The set is learned from GET /v1/board?view=needs after each change on
// the event stream - never on a timer, so an idle console still reaches
// its session's idle limit.

import { getQuiet } from './api.js';
import { el, $ } from './fmt.js';

const SOUND_EVERY = 10000;          // ms between two chimes while any alarm is on
const NOTIFY_EVERY = 60000;         // ms between two notifications of one message

const A = {
  rows: new Map(),                  // id -> board row wanting attention
  needs: 0, more: false,            // the needs count, for the nav's badge
  audio: null,
  soundTimer: null,
  notified: new Map(),              // id -> {at, n (Notification)}
  timer: null,
  seq: 0,
  on: false,
  hooks: { open: () => {}, changed: () => {} },
};

export function initAlarm(hooks) {
  A.hooks = { ...A.hooks, ...hooks };
  $('alarm-open').addEventListener('click', () => { const r = first(); if (r) A.hooks.open(r.id); });
  $('alarm-silence').addEventListener('click', () => A.hooks.silence(first()));
  $('alerts-on').addEventListener('click', enableAlerts);
  // Any key or click is a user gesture: the audio may start from it.
  const wake = () => {
    if (A.audio && A.audio.state === 'suspended') A.audio.resume().then(showAlertsButton, () => {});
  };
  document.addEventListener('keydown', wake, true);
  document.addEventListener('pointerdown', wake, true);
}

export function startAlarm() {
  A.on = true;
  audio();
  showAlertsButton();
  refresh();
}

export function stopAlarm() {
  A.on = false;
  A.rows.clear();
  clearTimeout(A.timer);
  render();
}

// Is message ID sounding now?
export const attention = (id) => A.rows.has(Number(id));
export const needsCount = () => ({ n: A.needs, more: A.more });

export function alarmChanged() {
  if (!A.on) return;
  clearTimeout(A.timer);
  A.timer = setTimeout(refresh, 400);
}

export async function refresh() {
  if (!A.on) return;
  const seq = ++A.seq;
  let r;
  try { r = (await getQuiet('/v1/board?view=needs&limit=200')).body; } catch { return; }
  if (!A.on || !r || seq !== A.seq) return;       // a newer answer is coming
  take(r);
}

// The board fetched the same list (GET /v1/board?view=needs&limit=200).
export function fromBoard(r) {
  if (!A.on) return;
  clearTimeout(A.timer);
  A.seq++;                                        // an older fetch of ours is stale now
  take(r);
}

function take(r) {
  const rows = r.messages || [];
  A.needs = rows.length;
  A.more = !!r.more;
  const before = [...A.rows.keys()].join();
  A.rows = new Map(rows.filter((x) => x.attention).map((x) => [x.id, x]));
  for (const [id, n] of A.notified) {
    if (!A.rows.has(id)) { try { n.n && n.n.close(); } catch { /* gone */ } A.notified.delete(id); }
  }
  render();
  if ([...A.rows.keys()].join() !== before) A.hooks.changed();
}

function first() { return A.rows.values().next().value || null; }

// ---------------------------------------------------------------- what it shows

function render() {
  const n = A.rows.size;
  const box = $('alarm');
  box.hidden = n === 0;
  const nb = $('nav-board-count');
  nb.textContent = A.needs ? `${A.needs}${A.more ? '+' : ''}` : '';
  nb.hidden = !A.needs;
  $('nav-board').classList.toggle('ringing', n > 0);
  if (n) {
    const r = first();
    const c = r.caller || {};
    $('alarm-text').replaceChildren(
      el('strong', { text: n === 1 ? 'Unacknowledged: ' : `${n} unacknowledged: ` }),
      `message ${r.id} · ${r.client_name || r.client} · ${c.name || ''} ${c.phone || ''}`,
      n > 1 ? el('span', { text: ` and ${n - 1} more` }) : '');
  }
  sound();
}

// ---------------------------------------------------------------- sound and notification

function audio() {
  if (A.audio) return A.audio;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  try { A.audio = new Ctx(); } catch { A.audio = null; }
  return A.audio;
}

// Two falling tones, 0.6 s in all: heard over a headset without startling.
function chime() {
  const ctx = audio();
  if (!ctx) return;
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  const t0 = ctx.currentTime + 0.02;
  [[880, 0], [660, 0.3]].forEach(([f, dt]) => {
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.type = 'sine';
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, t0 + dt);
    g.gain.exponentialRampToValueAtTime(0.35, t0 + dt + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + dt + 0.28);
    o.connect(g).connect(ctx.destination);
    o.start(t0 + dt);
    o.stop(t0 + dt + 0.3);
  });
}

function sound() {
  if (!A.rows.size) { clearInterval(A.soundTimer); A.soundTimer = null; return; }
  notify();
  if (A.soundTimer) return;
  chime();
  A.soundTimer = setInterval(() => {
    if (!A.rows.size) { clearInterval(A.soundTimer); A.soundTimer = null; return; }
    chime();
    notify();
  }, SOUND_EVERY);
}

function notify() {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const now = Date.now();
  for (const r of A.rows.values()) {
    const had = A.notified.get(r.id);
    if (had && now - had.at < NOTIFY_EVERY) continue;
    const c = r.caller || {};
    let n = null;
    try {
      n = new Notification(`Unacknowledged: ${r.client_name || r.client}`, {
        body: `Message ${r.id} · ${c.name || ''} ${c.phone || ''}\n${r.text || ''}`.trim(),
        tag: `pagegate-${r.id}`, renotify: true, requireInteraction: true,
      });
      n.onclick = () => { window.focus(); A.hooks.open(r.id); n.close(); };
    } catch { n = null; }
    A.notified.set(r.id, { at: now, n });
  }
}

function showAlertsButton() {
  const b = $('alerts-on');
  const perm = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  const muted = A.audio && A.audio.state !== 'running';
  b.hidden = !(perm === 'default' || muted);
}

async function enableAlerts() {
  const ctx = audio();
  if (ctx && ctx.state !== 'running') { try { await ctx.resume(); } catch { /* no sound */ } }
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
    try { await Notification.requestPermission(); } catch { /* refused */ }
  }
  showAlertsButton();
  if (A.rows.size) chime();
}
