// The Message screen: one message whole (GET /v1/messages/{id}) - the
// caller and text, the escalation's progress, each delivery with its
// state and the far end's last reply, and the timeline (the ledger: every
// attempt and reply, receipts, acknowledgement, notes, who did what) -
// with the same actions as the board.  It follows the event stream; the
// action fields keep what the operator typed.

import { get, getQuiet } from './api.js';
import { eventWord } from './board.js';
import { since, until, localTime, ref, el, $ } from './fmt.js';
import { normalisePhone } from './phone.js';

const M = { id: null, msg: null, shown: false, timer: null, seq: 0, client: null };
let panel = null;
let hooks = { back: () => {}, attention: () => false, clientInfo: async () => null, order: () => [], open: () => {} };

// The actions panel's hooks while it is on the message screen.
const ACTS = {
  targets: () => (M.msg ? [asTarget(M.msg)] : []),
  done: () => load().then(() => $('msg-h').focus()),
  escape: () => $('msg-h').focus(),
};

export function initMessage(h) {
  hooks = { ...hooks, ...h };
  panel = h.panel;
  $('msg-back').addEventListener('click', () => hooks.back());
  setInterval(() => { if (M.shown && M.msg) renderEscalation(M.msg); }, 15000);
}

function asTarget(m) {
  const e = m.escalation;
  return {
    id: m.id, client: m.client, client_name: M.client ? M.client.name : m.client, caller: m.caller,
    acknowledged: m.acknowledged, state: m.state, attention: hooks.attention(m.id),
    escalation: e ? { step: e.steps_fired, steps: e.steps, state: e.state } : null,
    deliveries: m.deliveries || [],
  };
}

export async function showMessage(id) {
  const changed = id !== M.id;
  M.shown = true;
  if (changed) {
    M.id = id; M.msg = null; M.client = null;
    panel.clear();
  }
  panel.attach($('msg-acts'), ACTS);
  if (changed) {
    $('msg-h').textContent = `Message ${id}`;
    $('msg-body').hidden = true;
    $('msg-missing').hidden = true;
  }
  await load();
  $('msg-h').focus();
}
export function hideMessage() { M.shown = false; }
export function clearMessage() { M.id = null; M.msg = null; }

export function messageScreenChanged(id) {
  if (!M.shown || Number(id) !== M.id) return;
  clearTimeout(M.timer);
  M.timer = setTimeout(() => load(true), 200);
}
// The alarm set changed: the Silence button follows it.
export function messageAttentionChanged() { if (M.shown && M.msg && panel.owner() === ACTS) panel.update(); }

async function load(quiet = false) {
  const id = M.id;
  const seq = ++M.seq;
  let m;
  try {
    m = (await (quiet ? getQuiet : get)(`/v1/messages/${id}`)).body;
  } catch (e) {
    if (seq !== M.seq) return;
    $('msg-body').hidden = true;
    $('msg-missing').hidden = false;
    $('msg-missing').textContent = e.status === 404 ? `There is no message ${id}.` : `Could not load message ${id}: ${e.message}`;
    return;
  }
  if (!M.client || M.client.id !== m.client) M.client = await hooks.clientInfo(m.client);
  if (seq !== M.seq || id !== M.id) return;
  M.msg = m;
  render(m);
}

// ---------------------------------------------------------------- render

const STATE_WORD = {
  queued: 'queued', sending: 'sending', sent: 'sent', delivered: 'delivered', failed: 'failed',
  held: 'held', cancelled: 'cancelled', waiting: 'in the mailbox',
};

function render(m) {
  const c = M.client;
  const caller = m.caller || {};
  $('msg-missing').hidden = true;
  $('msg-body').hidden = false;
  $('msg-h').textContent = `${m.kind === 'dispatch' ? 'Dispatch' : 'Message'} ${m.id}`;
  $('message').dataset.urgency = m.urgency;
  $('msg-tags').replaceChildren(...[
    el('span', { class: `u-tag ${m.urgency}`, text: m.urgency }),
    el('span', { class: `state-tag s-${m.state}`, text: m.state }),
    m.acknowledged ? el('span', { class: 'flag ok', text: 'Acknowledged' }) : null,
    m.unacknowledged && !m.acknowledged ? el('span', { class: 'flag unack', text: 'Unacknowledged' }) : null,
    hooks.attention(m.id) ? el('span', { class: 'flag ring', text: 'Alarm' }) : null].filter(Boolean));
  $('msg-meta').replaceChildren(
    el('strong', { text: c ? c.name : m.client }),
    ` · received ${localTime(m.received)} (${since(m.received)} ago) · taken by ${m.operator || '?'}`,
    m.ack_ref ? ' · reference ' : '', m.ack_ref ? el('span', { class: 'mono strong', text: ref(m.ack_ref) }) : '',
    m.acknowledged ? ` · acknowledged by ${m.acked_by || '?'} at ${localTime(m.acked_at)}` : '');
  $('msg-caller').replaceChildren(
    el('strong', { text: caller.name || '(no name)' }), ' ',
    el('span', { class: 'mono', text: normalisePhone(caller.phone || '') }),
    caller.company ? el('span', { class: 'muted', text: ` · ${caller.company}` }) : '');
  $('msg-text').textContent = m.text || '';
  const labels = Object.fromEntries(((c && c.fields) || []).map((f) => [f.id, f.label || f.id]));
  const fields = Object.entries(m.fields || {});
  $('msg-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', { text: labels[k] || k }), el('dd', { text: v })]));
  $('msg-fields').hidden = !fields.length;
  renderEscalation(m);
  renderDeliveries(m);
  renderTimeline(m);
  if (panel.owner() === ACTS) panel.update();
}

function renderEscalation(m) {
  const box = $('msg-esc');
  const e = m.escalation;
  box.hidden = !e;
  if (!e) return;
  const ds = m.deliveries || [];
  const steps = el('ol', { class: 'esc-steps' });
  const next = e.state === 'active' && e.steps_fired < e.steps ? e.steps_fired + 1 : 0;
  for (let k = 1; k <= e.steps; k++) {
    const mine = ds.filter((d) => d.escalation_step === k);
    const names = [...new Set(mine.map((d) => d.contact_name || d.contact))].join(', ');
    const fired = k <= e.steps_fired;
    const li = el('li', { class: fired ? 'fired' : k === next ? 'next' : 'later' },
      el('span', { class: 'esc-n', text: String(k) }),
      el('span', { class: 'esc-who', text: fired ? (names || 'nobody to page') : k === next ? 'next' : e.state === 'active' ? 'later' : 'not paged' }),
      fired && mine.length ? el('span', { class: 'esc-st muted', text: mine.map((d) => STATE_WORD[d.state] || d.state).join(', ') } ) : null,
      k === next && e.next_step_at ? el('span', { class: 'esc-when', text: `${until(e.next_step_at)} (${localTime(e.next_step_at)})` }) : null);
    steps.append(li);
  }
  const word = {
    active: e.steps_fired >= e.steps ? `all ${e.steps} steps paged; flagged unacknowledged ${e.unacknowledged_at ? `${until(e.unacknowledged_at)} (${localTime(e.unacknowledged_at)})` : 'soon'}` : `step ${e.steps_fired} of ${e.steps}`,
    acked: `stopped at step ${e.steps_fired} of ${e.steps}: acknowledged`,
    exhausted: `ran out after ${e.steps_fired} steps: nobody acknowledged`,
    cancelled: `stopped at step ${e.steps_fired} of ${e.steps}: cancelled`,
  }[e.state] || e.state;
  box.replaceChildren(el('h2', {}, 'Escalation ', el('span', { class: 'muted', text: `${e.policy}: ${word}` })), steps);
}

function renderDeliveries(m) {
  const ds = m.deliveries || [];
  const tb = $('msg-deliveries');
  tb.replaceChildren(...ds.map((d) => {
    const tries = (d.attempts || []).length;
    const cls = d.state === 'failed' ? 'bad' : d.state === 'sent' || d.state === 'delivered' ? 'good' : '';
    return el('tr', { class: `d-${d.state}` },
      el('td', {}, el('span', { class: 'who-name', text: d.contact_name || d.contact }),
        d.escalation_step ? el('span', { class: 'muted small', text: ` step ${d.escalation_step}` }) : ''),
      el('td', { class: 'mono small' }, `${d.channel} `, el('span', { class: 'muted', text: d.to || '' })),
      el('td', {}, el('span', { class: `st ${cls}`, text: STATE_WORD[d.state] || d.state }),
        d.state === 'held' && d.hold_until ? el('span', { class: 'muted small', text: ` until ${localTime(d.hold_until)}` }) : '',
        d.next_try && d.state === 'queued' && tries ? el('span', { class: 'muted small', text: ` retry ${until(d.next_try)}` }) : ''),
      el('td', { class: 'num-cell', text: String(tries) }),
      el('td', { class: 'reply mono small', title: d.last_reply || '', text: d.last_reply || '' }));
  }));
  $('msg-nodeliv').hidden = ds.length > 0;
}

const EVENT_TONE = {
  failed: 'bad', unacknowledged: 'bad', acknowledged: 'good', delivered: 'good', sent: 'good',
  note: 'op', resent: 'op', silenced: 'op', cancelled: 'bad', escalated: 'esc', escalation_restarted: 'esc', reply: 'op',
};

function renderTimeline(m) {
  const ds = new Map((m.deliveries || []).map((d) => [d.id, d]));
  const ol = $('msg-timeline');
  const atEnd = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 8;
  ol.replaceChildren(...(m.ledger || []).map((ev) => {
    const d = ev.delivery ? ds.get(ev.delivery) : null;
    return el('li', { class: `ev ev-${ev.type} tone-${EVENT_TONE[ev.type] || 'plain'}` },
      el('time', { datetime: ev.at, text: clock(ev.at) }),
      el('span', { class: 'ev-type', text: eventWord(ev.type) }),
      el('span', { class: 'ev-detail' },
        d ? el('span', { class: 'ev-who', text: `${d.contact_name || d.contact} · ${d.channel} ` }) : '',
        ev.detail || ''));
  }));
  if (atEnd) ol.scrollTop = ol.scrollHeight;
}

// "10:04:05" (today) or "Mon 10:04:05".
function clock(iso) {
  const d = new Date(iso);
  const s = String(d.getSeconds()).padStart(2, '0');
  return `${localTime(iso)}:${s}`;
}

// ---------------------------------------------------------------- keys

function inField(t) {
  return t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT'
    || (t.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes(t.type)));
}

// messageKey(e): the message screen's keys; true when handled.
export function messageKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || inField(e.target)) return false;
  switch (e.key) {
    case 'Escape': case 'Backspace': hooks.back(); return true;
    case 'a': return panel.focus('ack');
    case 'n': return panel.focus('note');
    case 'e': return panel.focus('escalate');
    case 'r': return panel.focus('resend');
    case 'c': return panel.focus('cancel');
    case 's': panel.silence(); return true;
    case 'j': case 'k': {
      const order = hooks.order();
      const i = order.indexOf(M.id);
      const j = i < 0 ? 0 : i + (e.key === 'j' ? 1 : -1);
      if (order.length && j >= 0 && j < order.length && order[j] !== M.id) hooks.open(order[j], true);
      return true;
    }
    default: return false;
  }
}
