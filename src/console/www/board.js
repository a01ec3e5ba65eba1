// The Board: what needs a human, most urgent first (GET /v1/board), with
// views for escalating, held, check-in mailboxes, failed and all, and a
// search.  It follows the event stream, but never under the operator's
// hand: while rows are selected or the operator is in one of the board's
// fields, what changed waits behind "N new — show"; after the operator's
// own action it refreshes at once.  The actions (actions.js) apply to the
// selected rows, or to the row under the cursor when none is selected.

import { get, getQuiet } from './api.js';
import { initCheckin, updateCheckin, focusCheckin } from './checkin.js';
import { since, until, localTime, ref, el, $ } from './fmt.js';

const VIEWS = ['needs', 'escalating', 'held', 'mailbox', 'failed', 'all'];
const EMPTY = {
  needs: 'Nothing needs a human now.',
  escalating: 'No escalation is running.',
  held: 'Nothing is held for business hours.',
  mailbox: 'No check-in mailbox has messages waiting.',
  failed: 'No failed delivery.',
  all: 'No messages.',
};

const B = {
  view: 'needs',
  filters: { q: '', id: '', from: '', to: '' },
  rows: [],               // what the table shows (board rows)
  more: false,
  selected: new Set(),    // ids ticked
  current: null,          // id of the row under the cursor
  pending: null,          // {rows, more} fetched while paused, not shown yet
  shown: false,
  want: null,             // the refresh still to make: 'now', 'live' or null
  running: null,          // the promise of the refreshes under way
  timer: null,
  error: '',
};
let panel = null;
let hooks = { open: () => {}, needs: () => {} };

// ---------------------------------------------------------------- setup

// The actions panel's hooks while it is on the board.
const ACTS = {
  targets,
  // after the operator's own action: at once, and the keys back on the rows
  done: () => { B.selected.clear(); refresh('now').then(() => focusRow(B.current, true)); },
  escape: () => focusRow(B.current, true),
};

export function initBoard(h) {
  hooks = { ...hooks, ...h };
  panel = h.panel;
  initCheckin($('board-checkin'), { done: () => refresh('now'), closed: () => focusRow(B.current, true) });

  for (const t of document.querySelectorAll('#board-tabs [role=tab]')) {
    t.addEventListener('click', () => setView(t.dataset.view));
  }
  $('board-tabs').addEventListener('keydown', tabKey);
  $('board-search').addEventListener('submit', (e) => {
    e.preventDefault();
    readFilters();
    B.selected.clear();
    refresh('now').then(() => focusRow(B.rows.length ? B.rows[0].id : null, true));
  });
  $('board-clear').addEventListener('click', () => {
    for (const f of ['board-q', 'board-id', 'board-from', 'board-to']) $(f).value = '';
    readFilters();
    refresh('now');
  });
  $('board-new').addEventListener('click', showPending);
  const tbody = $('board-rows');
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr) return;
    const id = Number(tr.dataset.id);
    if (e.target.matches('input[type=checkbox]')) { toggle(id, e.target.checked); setCurrent(id); return; }
    setCurrent(id);
    focusRow(id);
  });
  tbody.addEventListener('dblclick', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr) hooks.open(Number(tr.dataset.id));
  });
  // ages and "next in" tick on their own (text only, nothing fetched)
  setInterval(tickTimes, 15000);
}

// The messages the actions apply to: the ticked rows, else the current one.
function targets() {
  const ids = B.selected.size ? [...B.selected] : B.current !== null ? [B.current] : [];
  return ids.map((id) => B.rows.find((r) => r.id === id)).filter(Boolean).map(asTarget);
}

function asTarget(r) {
  return { ...r, deliveries: (r.failed || []).map((f) => ({ contact: f.contact, contact_name: f.contact_name, channel: f.channel, to: f.to })) };
}

export function showBoard() {
  B.shown = true;
  panel.attach($('board-acts'), ACTS);
  refresh('now').then(() => {
    if (!$('board').contains(document.activeElement) || document.activeElement === document.body) focusRow(B.current, true);
  });
}
export function hideBoard() { B.shown = false; }
export function clearBoard() {
  B.rows = []; B.selected.clear(); B.current = null; B.pending = null;
  $('board-rows').replaceChildren();
  if (panel) panel.clear();
  $('board-new').hidden = true;
}
// The rows in board order, for the message screen's next / previous.
export function boardOrder() { return B.rows.map((r) => r.id); }

// ---------------------------------------------------------------- live

// Something changed on message ID (event stream).
export function boardChanged() {
  if (!B.shown) return;
  clearTimeout(B.timer);
  B.timer = setTimeout(() => refresh('live'), 250);
}

// The operator is busy with the board: rows ticked, or the cursor in one
// of its fields (search, an action's field).
function paused() {
  if (B.selected.size) return true;
  const a = document.activeElement;
  return !!a && $('board').contains(a) && inField(a);
}

function query() {
  const p = new URLSearchParams({ view: B.view, limit: '200' });
  const f = B.filters;
  if (f.q) p.set('q', f.q);
  if (f.id) p.set('id', f.id);
  if (f.from) p.set('since', new Date(`${f.from}T00:00:00`).toISOString());
  if (f.to) {
    const d = new Date(`${f.to}T00:00:00`);
    d.setDate(d.getDate() + 1);
    p.set('until', d.toISOString());
  }
  return `/v1/board?${p}`;
}

// refresh('now'): fetch and show (the operator asked, or acted);
// refresh('live'): an event: show it, or keep it behind "N new" when paused.
// Calls while a fetch runs are folded into one more fetch; the promise
// settles once what was asked for is shown.
export function refresh(mode = 'now') {
  B.want = B.want === 'now' || mode === 'now' ? 'now' : 'live';
  if (!B.running) {
    B.running = (async () => {
      while (B.want) {
        const m = B.want;
        B.want = null;
        await load(m);
      }
      B.running = null;
    })();
  }
  return B.running;
}

// The board shows what the alarm listens to (Needs a human, no search):
// its answer serves both (app.js then asks the alarm for nothing more).
export function feedsAlarm() {
  return B.shown && B.view === 'needs' && !Object.values(B.filters).some(Boolean);
}

async function load(mode) {
  let r = null;
  const plain = feedsAlarm();
  const asked = query();
  try {
    r = (await (mode === 'live' ? getQuiet : get)(asked)).body || { messages: [] };
    B.error = '';
  } catch (e) {
    B.error = e.status === 400 ? e.message : `Could not load the board: ${e.message}`;
  }
  if (r && plain) hooks.needs(r);
  if (asked !== query()) return;          // the view or search changed: that fetch comes next
  if (!B.shown && mode === 'live') return;
  if (!r) { renderError(); return; }
  if (mode === 'live' && paused()) {
    B.pending = { rows: r.messages || [], more: !!r.more };
    showNew();
  } else {
    render(r.messages || [], !!r.more);
  }
}

// How many rows differ between what is shown and what is waiting.
function changes(shown, next) {
  const had = new Map(shown.map((r) => [r.id, r.last_event_at + (r.attention ? '!' : '')]));
  let n = 0;
  for (const r of next) {
    if (had.get(r.id) !== r.last_event_at + (r.attention ? '!' : '')) n++;
    had.delete(r.id);
  }
  return n + had.size;
}

function showNew() {
  const n = B.pending ? changes(B.rows, B.pending.rows) : 0;
  const btn = $('board-new');
  btn.hidden = n === 0;
  $('board-new-text').textContent = `${n} new — show`;
}

function showPending() {
  const p = B.pending;
  if (p) render(p.rows, p.more);
  else refresh('now');
  focusRow(B.current, true);
}

// ---------------------------------------------------------------- views and search

function setView(v, focusTab = false) {
  if (!VIEWS.includes(v)) return;
  const changed = v !== B.view;
  B.view = v;
  for (const t of document.querySelectorAll('#board-tabs [role=tab]')) {
    const on = t.dataset.view === v;
    t.setAttribute('aria-selected', on ? 'true' : 'false');
    t.tabIndex = on ? 0 : -1;
    if (on && focusTab) t.focus();
  }
  $('board-checkin').hidden = v !== 'mailbox';
  if (changed && panel.owner() === ACTS) panel.status('', '');
  if (changed) { B.selected.clear(); B.current = null; B.rows = []; $('board-rows').replaceChildren(); }
  return refresh('now');
}

function tabKey(e) {
  if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return;
  e.preventDefault();
  const i = VIEWS.indexOf(B.view);
  const j = e.key === 'Home' ? 0 : e.key === 'End' ? VIEWS.length - 1
    : (i + (e.key === 'ArrowRight' ? 1 : VIEWS.length - 1)) % VIEWS.length;
  setView(VIEWS[j], true);
}

function readFilters() {
  B.filters = {
    q: $('board-q').value.trim(),
    id: $('board-id').value.trim().replace(/^#/, ''),
    from: $('board-from').value,
    to: $('board-to').value,
  };
  const any = Object.values(B.filters).some(Boolean);
  $('board-clear').hidden = !any;
}

// ---------------------------------------------------------------- rows

function render(rows, more) {
  const hadFocus = $('board-rows').contains(document.activeElement);
  B.rows = rows;
  B.more = more;
  B.pending = null;
  $('board-new').hidden = true;
  const ids = new Set(rows.map((r) => r.id));
  for (const id of [...B.selected]) if (!ids.has(id)) B.selected.delete(id);
  if (B.current !== null && !ids.has(B.current)) B.current = rows.length ? rows[0].id : null;
  if (B.current === null && rows.length) B.current = rows[0].id;
  const tbody = $('board-rows');
  tbody.replaceChildren(...rows.map(rowEl));
  $('board-empty').hidden = rows.length > 0;
  $('board-empty').textContent = B.error || (Object.values(B.filters).some(Boolean) ? 'Nothing matches the search.' : EMPTY[B.view]);
  $('board-count').textContent = `${rows.length}${more ? '+' : ''} message${rows.length === 1 ? '' : 's'}`;
  markRows();
  if (hadFocus) focusRow(B.current);
  if (B.view === 'mailbox') updateCheckin(rows);
}

function renderError() {
  $('board-empty').hidden = false;
  $('board-empty').textContent = B.error;
}

const KIND_WORD = { dispatch: 'dispatch', message: 'message' };

function rowEl(r) {
  const who = r.caller || {};
  const tr = el('tr', {
    'data-id': r.id, tabindex: '-1',
    class: ['row', r.overdue ? 'overdue' : '', r.attention ? 'attention' : '', r.acknowledged ? 'acked' : '', `u-${r.urgency}`].join(' ').trim(),
  },
  el('td', { class: 'c-sel' }, el('input', { type: 'checkbox', tabindex: '-1', 'aria-label': `Select message ${r.id}` })),
  el('td', { class: 'c-urg' },
    el('span', { class: `u-tag ${r.urgency}`, text: r.urgency }),
    el('span', { class: 'kind' }, el('span', { class: 'num', text: `#${r.id}` }), ` · ${KIND_WORD[r.kind] || r.kind}`)),
  el('td', { class: 'c-who' },
    el('span', { class: 'line' }, el('strong', { text: who.name || '(no name)' }), ' ', el('span', { class: 'mono', text: who.phone || '' })),
    el('span', { class: 'line muted', text: r.client_name || r.client })),
  el('td', { class: 'c-age' },
    el('span', { class: 'line rel', 'data-since': r.received, text: since(r.received) }),
    el('span', { class: 'line muted', text: localTime(r.received) })),
  el('td', { class: 'c-last' },
    el('span', { class: 'line rel', 'data-since': r.last_event_at, text: `${since(r.last_event_at)} ago` }),
    el('span', { class: 'line muted', text: eventWord(r.last_event) })),
  el('td', { class: 'c-state' }, ...stateLines(r)));
  tr.title = r.text || '';
  return tr;
}

export const EVENT_WORD = {
  received: 'received', routed: 'routed', attempt_started: 'attempt', attempt_finished: 'reply',
  sent: 'sent', failed: 'failed', delivered: 'delivered', acknowledged: 'acknowledged',
  cancelled: 'cancelled', escalated: 'escalated', escalation_restarted: 'escalated again',
  unacknowledged: 'unacknowledged', reply: 'reply', note: 'note', resent: 'resent',
  silenced: 'alarm silenced', held: 'held', retry_scheduled: 'retry scheduled', released: 'released',
};
export const eventWord = (t) => EVENT_WORD[t] || String(t || '').replace(/_/g, ' ');

function stateLines(r) {
  const out = [];
  const tags = [];
  if (r.attention) tags.push(el('span', { class: 'flag ring', text: 'Alarm' }));
  if (r.overdue) tags.push(el('span', { class: 'flag overdue', text: 'Overdue' }));
  if (r.unacknowledged && !r.acknowledged) tags.push(el('span', { class: 'flag unack', text: 'Unacknowledged' }));
  if (r.acknowledged) {
    tags.push(el('span', { class: 'flag ok', text: 'Acknowledged' }),
      el('span', { class: 'muted', text: ` ${r.acked_by || ''}${r.acked_at ? ` · ${localTime(r.acked_at)}` : ''}` }));
  }
  if (r.state === 'cancelled' || r.last_event === 'cancelled') tags.push(el('span', { class: 'flag off', text: 'Cancelled' }));
  if (r.silenced_by) tags.push(el('span', { class: 'muted', text: ` silenced by ${r.silenced_by}` }));
  if (tags.length) out.push(el('span', { class: 'line tags' }, ...tags));
  const e = r.escalation;
  if (e) {
    if (e.state === 'active') {
      const last = e.step >= e.steps;
      out.push(el('span', { class: 'line esc' },
        el('strong', { text: `Step ${e.step} of ${e.steps}` }),
        (e.paged || []).length ? ` · paged ${e.paged.join(', ')}` : '',
        e.next_step_at ? el('span', { class: 'next' }, last ? ' · unacknowledged ' : ' · next ',
          el('span', { class: 'rel', 'data-until': e.next_step_at, text: until(e.next_step_at) }),
          ` (${localTime(e.next_step_at)})`) : ''));
    } else {
      const word = { exhausted: 'ran out, nobody acknowledged', acked: 'stopped: acknowledged', cancelled: 'stopped: cancelled' }[e.state] || e.state;
      out.push(el('span', { class: 'line esc muted', text: `Escalation ${word} (step ${e.step} of ${e.steps})` }));
    }
  }
  for (const f of r.failed || []) {
    out.push(el('span', { class: `line fail${f.resent ? ' muted' : ''}`, title: f.reply || '' },
      el('strong', { text: 'Failed ' }), `${f.contact_name || f.contact} · ${f.channel} `,
      el('span', { class: 'reply', text: f.reply || '' }), f.resent ? ' · resent since' : ''));
  }
  if (r.held_until) out.push(el('span', { class: 'line held', text: `Held until ${localTime(r.held_until)}` }));
  if (r.waiting) out.push(el('span', { class: 'line', text: `${r.waiting} waiting in a check-in mailbox` }));
  if (!out.length) {
    const waitsForAck = !r.acknowledged && (r.kind === 'dispatch' || r.urgency === 'emergency');
    out.push(el('span', { class: 'line muted', text: `${r.state}${waitsForAck ? ' · not acknowledged yet' : ''}` }));
  }
  return out;
}

function tickTimes() {
  for (const s of document.querySelectorAll('#board-rows .rel')) {
    if (s.dataset.since) s.textContent = s.closest('.c-last') ? `${since(s.dataset.since)} ago` : since(s.dataset.since);
    else if (s.dataset.until) s.textContent = until(s.dataset.until);
  }
}

// ---------------------------------------------------------------- cursor and selection

function rowFor(id) { return id === null ? null : document.querySelector(`#board-rows tr[data-id="${id}"]`); }

function markRows() {
  for (const tr of document.querySelectorAll('#board-rows tr')) {
    const id = Number(tr.dataset.id);
    const sel = B.selected.has(id);
    tr.classList.toggle('selected', sel);
    tr.classList.toggle('current', id === B.current);
    tr.querySelector('input[type=checkbox]').checked = sel;
    tr.tabIndex = id === B.current ? 0 : -1;
  }
  const n = B.selected.size;
  $('board-selected').textContent = n ? `${n} selected · Esc clears` : '';
  renderCurrent();
  if (panel.owner() === ACTS) panel.update();
}

function setCurrent(id) {
  if (id === B.current) return;
  B.current = id;
  if (panel.owner() === ACTS) panel.status('', '');   // the last action's words were about another row
  markRows();
}

function focusRow(id, fallback = false) {
  const tr = rowFor(id);
  if (tr) { tr.focus(); tr.scrollIntoView({ block: 'nearest' }); return; }
  if (fallback) {
    const first = document.querySelector('#board-rows tr');
    if (first) { setCurrent(Number(first.dataset.id)); first.focus(); } else $('board-tabs').querySelector('[aria-selected=true]').focus();
  }
}

function toggle(id, on) {
  if (on === undefined) on = !B.selected.has(id);
  if (panel.owner() === ACTS) panel.status('', '');
  if (on) B.selected.add(id); else B.selected.delete(id);
  markRows();
}

function move(delta) {
  if (!B.rows.length) return;
  let i = B.rows.findIndex((r) => r.id === B.current);
  i = Math.max(0, Math.min(B.rows.length - 1, (i < 0 ? 0 : i) + delta));
  setCurrent(B.rows[i].id);
  focusRow(B.current);
}

// The current row's caller and text, beside the actions.
function renderCurrent() {
  const box = $('board-current');
  const t = targets();
  if (t.length !== 1) {
    box.replaceChildren(el('p', { class: 'muted', text: t.length ? `${t.length} messages selected.` : 'No message under the cursor.' }));
    return;
  }
  const r = t[0];
  const c = r.caller || {};
  box.replaceChildren(
    el('p', { class: 'cur-head' }, el('span', { class: `u-tag ${r.urgency}`, text: r.urgency }), ' ',
      el('strong', { text: `${r.kind === 'dispatch' ? 'Dispatch' : 'Message'} ${r.id}` }),
      el('span', { class: 'muted', text: ` · ${r.client_name || r.client} · ${localTime(r.received)}` }),
      r.ack_ref ? el('span', { class: 'muted', text: ` · ref ${ref(r.ack_ref)}` }) : null),
    el('p', {}, el('strong', { text: c.name || '(no name)' }), ' ', el('span', { class: 'mono', text: c.phone || '' }),
      c.company ? el('span', { class: 'muted', text: ` · ${c.company}` }) : null),
    el('p', { class: 'cur-text', text: r.text || '' }),
    el('p', { class: 'hint small' }, el('kbd', { text: 'Enter' }), ' opens the whole message and its timeline'));
}

// ---------------------------------------------------------------- keys

function inField(t) {
  return t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT'
    || (t.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes(t.type)));
}

// boardKey(e): the board's keys; true when the key was the board's.
export function boardKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) {
    if ((e.key === 'a' || e.key === 'A') && (e.ctrlKey || e.metaKey) && !inField(e.target) && B.rows.length) {
      for (const r of B.rows) B.selected.add(r.id);
      markRows();
      return true;
    }
    return false;
  }
  if (inField(e.target)) return false;
  const k = e.key;
  if (/^[1-6]$/.test(k)) { setView(VIEWS[Number(k) - 1]).then(() => focusRow(B.current, true)); return true; }
  if (e.target.closest && e.target.closest('#board-tabs')) {
    if (k === 'ArrowDown' || k === 'Enter' || k === ' ') { focusRow(B.current, true); return true; }
    return false;
  }
  if (e.target.closest && e.target.closest('button, select, a') && (k === 'Enter' || k === ' ')) return false;
  switch (k) {
    case 'ArrowDown': case 'j': move(1); return true;
    case 'ArrowUp': case 'k': move(-1); return true;
    case 'Home': move(-1e6); return true;
    case 'End': move(1e6); return true;
    case ' ': case 'x':
      if (B.current !== null) toggle(B.current);
      return true;
    case 'Enter': case 'o':
      if (B.current !== null) hooks.open(B.current);
      return true;
    case 'Escape':
      if (B.selected.size) { B.selected.clear(); markRows(); if (B.pending) showNew(); }
      focusRow(B.current, true);
      return true;
    case '/': $('board-q').focus(); $('board-q').select(); return true;
    case 'u': if (!$('board-new').hidden) showPending(); else refresh('now'); return true;
    case 'a': return panel.focus('ack');
    case 'n': return panel.focus('note');
    case 'e': return panel.focus('escalate');
    case 'r': return panel.focus('resend');
    case 'c': return panel.focus('cancel');
    case 's': panel.silence(); return true;
    case 'm': return B.view === 'mailbox' ? focusCheckin() : false;
    default: return false;
  }
}
