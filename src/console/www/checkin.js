// Check-in: a contact who is never paged (checkin = true) calls in, and
// the operator reads the messages kept in the contact's mailbox out on
// screen.  Reading them (GET /v1/clients/{id}/mailbox without peek) marks
// them delivered; the ledger says who checked in and which operator read
// them out.  The list of who has messages waiting comes from peeking the
// mailboxes of the clients on the board's Check-in view.

import { get } from './api.js';
import { localTime, ref, el, $ } from './fmt.js';
import { normalisePhone } from './phone.js';

const C = { choices: [], seq: 0, hooks: { done: () => {}, closed: () => {} } };

export function initCheckin(box, hooks) {
  C.hooks = { ...C.hooks, ...hooks };
  const who = el('select', { id: 'checkin-who', 'aria-keyshortcuts': 'M' });
  const form = el('form', { class: 'act', id: 'checkin-form', novalidate: true },
    el('label', { for: who.id, text: 'Checked in' }),
    el('div', { class: 'act-row' }, who,
      el('button', { type: 'submit', class: 'primary', id: 'checkin-read', text: 'Read out' }),
      el('kbd', { class: 'act-key', 'aria-hidden': 'true', text: 'M' })),
    el('p', { class: 'hint small', text: 'Reading the messages out marks them delivered, in your name.' }),
    el('p', { class: 'err', id: 'checkin-err', role: 'alert', hidden: true }));
  box.replaceChildren(el('h2', { text: 'Check-in' }), form);
  form.addEventListener('submit', (e) => { e.preventDefault(); readOut(); });
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); who.blur(); document.querySelector('#board-rows tr.current')?.focus(); }
    else if (e.key === 'Enter' && e.target === who) { e.preventDefault(); form.requestSubmit(); }
  });
  $('readout-close').addEventListener('click', () => $('readout').close());
  // closed (Esc or Close): the keys go back to the board's rows
  $('readout').addEventListener('close', () => C.hooks.closed());
}

// The board's Check-in rows changed: who has messages waiting, by client.
export async function updateCheckin(rows) {
  const seq = ++C.seq;
  const clients = [...new Set(rows.filter((r) => r.waiting > 0).map((r) => r.client))];
  const names = new Map(rows.map((r) => [r.client, r.client_name || r.client]));
  const found = new Map();
  await Promise.all(clients.map(async (client) => {
    try {
      const r = (await get(`/v1/clients/${encodeURIComponent(client)}/mailbox?peek=true`)).body || {};
      for (const m of r.messages || []) {
        const k = `${client}|${m.contact}`;
        if (!found.has(k)) found.set(k, { client, client_name: names.get(client), contact: m.contact, contact_name: m.contact_name || m.contact, n: 0, more: !!r.more });
        found.get(k).n++;
      }
    } catch { /* that client's mailbox is not shown */ }
  }));
  if (seq !== C.seq) return;
  const who = $('checkin-who');
  const keep = who.value;
  C.choices = [...found.values()].sort((a, b) => a.contact_name.localeCompare(b.contact_name));
  who.replaceChildren(...(C.choices.length ? C.choices.map((c) => el('option', {
    value: `${c.client}|${c.contact}`,
    text: `${c.contact_name} · ${c.client_name} · ${c.n}${c.more ? '+' : ''} waiting`,
  })) : [el('option', { value: '', text: 'Nobody is waiting' })]));
  if (keep && C.choices.some((c) => `${c.client}|${c.contact}` === keep)) who.value = keep;
  $('checkin-read').disabled = !C.choices.length;
}

export function focusCheckin() {
  $('checkin-who').focus();
  return true;
}

async function readOut() {
  const v = $('checkin-who').value;
  const c = C.choices.find((x) => `${x.client}|${x.contact}` === v);
  const errBox = $('checkin-err');
  errBox.hidden = true;
  if (!c) return;
  let r;
  try {
    const q = new URLSearchParams({ contact: c.contact, by: c.contact_name });
    r = (await get(`/v1/clients/${encodeURIComponent(c.client)}/mailbox?${q}`)).body || {};
  } catch (e) {
    errBox.textContent = `Could not read the mailbox: ${e.message}`;
    errBox.hidden = false;
    return;
  }
  let labels = {};
  try {
    const info = (await get(`/v1/clients/${encodeURIComponent(c.client)}`)).body || {};
    labels = Object.fromEntries((info.fields || []).map((f) => [f.id, f.label || f.id]));
  } catch { /* the fields by their ids */ }
  showReadout(c, r, labels);
  C.hooks.done();
}

// The dialog the operator reads from: each message in full, oldest first.
function showReadout(c, r, labels) {
  const list = r.messages || [];
  $('readout-h').textContent = `Messages for ${c.contact_name} (${c.client_name})`;
  $('readout-sub').textContent = list.length
    ? `${list.length} message${list.length === 1 ? '' : 's'}, now marked delivered: read out to ${c.contact_name}.${r.more ? ' More are waiting: read out again after these.' : ''}`
    : 'No messages were waiting (someone else may have read them out).';
  const ol = $('readout-list');
  ol.replaceChildren(...list.map((m) => {
    const who = m.caller || {};
    const fields = Object.entries(m.fields || {});
    return el('li', { class: `readout-msg u-${m.urgency}` },
      el('p', { class: 'ro-head' }, el('span', { class: `u-tag ${m.urgency}`, text: m.urgency }), ' ',
        el('strong', { text: `Message ${m.id}` }),
        el('span', { class: 'muted', text: ` · ${localTime(m.received)} · reference ${ref(m.ack_ref)}` })),
      el('p', { class: 'ro-caller' }, el('strong', { text: who.name || '(no name)' }), ' ',
        el('span', { class: 'mono', text: normalisePhone(who.phone || '') }),
        who.company ? el('span', { class: 'muted', text: ` · ${who.company}` }) : null),
      el('p', { class: 'ro-text', text: m.text || '' }),
      fields.length ? el('dl', { class: 'ro-fields' }, ...fields.flatMap(([k, v]) => [el('dt', { text: labels[k] || k }), el('dd', { text: v })])) : null);
  }));
  const d = $('readout');
  // the focus the dialog gives back when it closes: the board's rows
  C.hooks.closed();
  if (!d.open) d.showModal();
  $('readout-close').focus();
}
