// What an operator does to messages, on the board (to the selected rows,
// or the row under the cursor) and on the message screen (to that one
// message): acknowledge on someone's behalf, add a note, escalate from a
// step, resend to a contact by a channel, cancel with a reason, silence an
// alarm.  One panel builder serves both screens; each action is one form,
// so Enter in its field does it, and the server records the operator.
//
// A target is { id, client, client_name, caller, acknowledged, attention,
// state, escalation: {step, steps, state} or null, deliveries: [{contact,
// contact_name, channel, to}] } - a board row or a message, normalised.

import { get, post } from './api.js';
import { el } from './fmt.js';

// ---------------------------------------------------------------- the API calls

// ack(ids, by) -> {done: [ids], failed: [{id, message}]}; one id uses the
// single route, several the bulk route.
export async function ack(ids, by) {
  const body = by ? { by } : {};
  if (ids.length === 1) {
    await post(`/v1/messages/${ids[0]}/ack`, body);
    return { done: ids, failed: [] };
  }
  return bulkResult(await post('/v1/messages/bulk', { action: 'ack', ids, ...body }));
}

export async function note(ids, text) {
  if (ids.length === 1) {
    await post(`/v1/messages/${ids[0]}/notes`, { text });
    return { done: ids, failed: [] };
  }
  return bulkResult(await post('/v1/messages/bulk', { action: 'note', ids, text }));
}

function bulkResult(r) {
  const done = [];
  const failed = [];
  for (const x of (r.body && r.body.results) || []) {
    if (x.ok) done.push(x.id);
    else failed.push({ id: x.id, message: (x.error && x.error.message) || 'refused' });
  }
  return { done, failed };
}

export const silence = (id) => post(`/v1/messages/${id}/silence`, {});

// ---------------------------------------------------------------- whom to resend to

// The contacts a message can be resent to, with their channels: the
// client's contacts and their devices (GET /v1/clients/{id}), plus
// whoever the message itself went to.  [{contact, contact_name, channel,
// to}], one per contact and channel.
const choiceCache = new Map();      // client -> {at, list}

export async function resendChoices(client, deliveries = []) {
  let cached = choiceCache.get(client);
  if (!cached || Date.now() - cached.at > 60000) {
    cached = { at: Date.now(), list: await fetchChoices(client) };
    choiceCache.set(client, cached);
  }
  const all = new Map();
  const add = (d) => {
    if (!d || !d.contact || !d.channel || d.channel === 'mailbox') return;
    const k = `${d.contact}|${d.channel}`;
    const had = all.get(k);
    if (!had) all.set(k, { contact: d.contact, contact_name: d.contact_name || d.contact, channel: d.channel, to: d.to ? [d.to] : [] });
    else if (d.to && !had.to.includes(d.to)) had.to.push(d.to);
  };
  deliveries.forEach(add);
  cached.list.forEach(add);
  return [...all.values()].sort((a, b) => a.contact_name.localeCompare(b.contact_name) || a.channel.localeCompare(b.channel));
}

async function fetchChoices(client) {
  const out = [];
  const c = (await get(`/v1/clients/${encodeURIComponent(client)}`)).body || {};
  for (const k of c.contacts || []) {
    for (const d of k.devices || []) out.push({ contact: k.id, contact_name: k.name, channel: d.channel, to: d.to });
  }
  return out;
}

// ---------------------------------------------------------------- the panel

// actionPanel() -> {el, attach, owner, update, focus, silence, status, clear}:
// one panel, moved into the screen that shows (so each accessible name is
// on one control of the page).  attach(container, hooks) puts it there and
// makes it act for that screen:
//   hooks.targets(): the messages the actions apply to, now
//   hooks.done(what, ids): an action went through: refresh what is shown
//   hooks.escape(): Esc in one of its fields: the keys back to the screen
export function actionPanel() {
  const id = (s) => `act-${s}`;
  let hooks = { targets: () => [], done: () => {}, escape: null };
  const P = { seq: 0, choices: [], choicesFor: '' };

  const target = el('p', { class: 'acts-target', id: id('target') });
  const statusLine = el('p', { class: 'acts-status', id: id('status'), role: 'status' });

  const row = (...kids) => el('div', { class: 'act-row' }, ...kids);
  const key = (k) => el('kbd', { class: 'act-key', 'aria-hidden': 'true', text: k });
  const errs = {};
  const err = (name) => { errs[name] = el('p', { class: 'err', id: id(`${name}-err`), hidden: true }); return errs[name]; };

  const ackBy = el('input', { id: id('ack-by'), autocomplete: 'off', spellcheck: 'false', placeholder: 'Empty: you', 'aria-keyshortcuts': 'A' });
  const ackForm = el('form', { class: 'act', id: id('ack-form'), novalidate: true },
    el('label', { for: ackBy.id, text: 'Acknowledged by' }),
    row(ackBy, el('button', { type: 'submit', class: 'primary', id: id('ack'), text: 'Acknowledge' }), key('A')),
    err('ack'));

  const noteText = el('input', { id: id('note'), autocomplete: 'off', maxlength: '2000', placeholder: 'Kept in the ledger', 'aria-keyshortcuts': 'N' });
  const noteForm = el('form', { class: 'act', id: id('note-form'), novalidate: true },
    el('label', { for: noteText.id, text: 'Note' }),
    row(noteText, el('button', { type: 'submit', id: id('note-add'), text: 'Add note' }), key('N')),
    err('note'));

  const escStep = el('select', { id: id('esc-step'), 'aria-keyshortcuts': 'E' });
  const escForm = el('form', { class: 'act one', id: id('esc-form'), novalidate: true },
    el('label', { for: escStep.id, text: 'Escalate from step' }),
    row(escStep, el('button', { type: 'submit', id: id('esc'), text: 'Escalate' }), key('E')),
    err('esc'));

  const resendTo = el('select', { id: id('resend-to'), 'aria-keyshortcuts': 'R' });
  const resendForm = el('form', { class: 'act one', id: id('resend-form'), novalidate: true },
    el('label', { for: resendTo.id, text: 'Resend to' }),
    row(resendTo, el('button', { type: 'submit', id: id('resend'), text: 'Resend' }), key('R')),
    err('resend'));

  const reason = el('input', { id: id('cancel-reason'), autocomplete: 'off', placeholder: 'Required', 'aria-keyshortcuts': 'C' });
  const cancelForm = el('form', { class: 'act one', id: id('cancel-form'), novalidate: true },
    el('label', { for: reason.id, text: 'Cancel reason' }),
    row(reason, el('button', { type: 'submit', class: 'danger', id: id('cancel'), text: 'Cancel' }), key('C')),
    err('cancel'));

  const silenceBtn = el('button', { type: 'button', class: 'alarm-btn', id: id('silence'), hidden: true, 'aria-keyshortcuts': 'S' },
    'Silence', el('kbd', { 'aria-hidden': 'true', text: 'S' }));
  const oneOnly = el('p', { class: 'hint small', id: id('one-only'), hidden: true,
    text: 'Escalate, resend and cancel work on one message at a time.' });

  const root = el('section', { class: 'acts', 'aria-labelledby': id('h') },
    el('h2', { id: id('h'), text: 'Actions' }), target, silenceBtn,
    ackForm, noteForm, oneOnly, escForm, resendForm, cancelForm, statusLine);

  // ---- helpers
  function setStatus(kind, text) {
    statusLine.className = `acts-status${kind ? ` ${kind}` : ''}`;
    statusLine.textContent = text;
  }
  function fieldError(name, text) {
    const e = errs[name];
    const input = { ack: ackBy, note: noteText, esc: escStep, resend: resendTo, cancel: reason }[name];
    e.textContent = text || '';
    e.hidden = !text;
    if (text) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', e.id); }
    else { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
  }
  function clearErrors() { for (const n of ['ack', 'note', 'esc', 'resend', 'cancel']) fieldError(n, ''); }
  const ids = () => hooks.targets().map((t) => t.id);
  const names = (list) => (list.length === 1 ? `message ${list[0]}` : `messages ${list.join(', ')}`);
  let running = false;

  async function run(name, fn) {
    if (running) return;
    const list = ids();
    if (!list.length) { setStatus('error', 'Choose a message first.'); return; }
    running = true;
    root.classList.add('busy');
    clearErrors();
    try {
      await fn(list);
    } catch (e) {
      const field = { text: 'note', contact: 'resend', channel: 'resend', from_step: 'esc', reason: 'cancel', by: 'ack' }[e.field];
      if (field) fieldError(field, e.message);
      if (e.status !== 401) setStatus('error', `Not done: ${e.message}`);
    } finally {
      running = false;
      root.classList.remove('busy');
    }
  }

  function report(verb, r, extra = '') {
    const failed = r.failed.map((f) => `${f.id}: ${f.message}`).join('; ');
    if (!r.failed.length) setStatus('ok', `${verb} ${names(r.done)}${extra}.`);
    else if (r.done.length) setStatus('error', `${verb} ${names(r.done)}${extra}; not ${failed}.`);
    else setStatus('error', `Not done: ${failed}.`);
  }

  // ---- the actions
  ackForm.addEventListener('submit', (e) => {
    e.preventDefault();
    run('ack', async (list) => {
      const by = ackBy.value.trim();
      const r = await ack(list, by);
      report('Acknowledged', r, by ? ` on behalf of ${by}` : '');
      if (!r.failed.length) ackBy.value = '';
      hooks.done('ack', r.done);
    });
  });
  noteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = noteText.value.trim();
    if (!text) { fieldError('note', 'Type the note first.'); noteText.focus(); return; }
    run('note', async (list) => {
      const r = await note(list, text);
      report('Note added to', r);
      if (!r.failed.length) noteText.value = '';
      hooks.done('note', r.done);
    });
  });
  escForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const step = Number(escStep.value);
    if (!step) return;
    run('escalate', async (list) => {
      await post(`/v1/messages/${list[0]}/escalate`, { from_step: step });
      setStatus('ok', `Message ${list[0]} escalates again from step ${step}, now.`);
      hooks.done('escalate', list);
    });
  });
  escStep.addEventListener('change', () => { escStep.dataset.chosen = '1'; });
  resendForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const [contact, channel] = resendTo.value.split('|');
    if (!contact) { fieldError('resend', 'Choose whom to resend to.'); resendTo.focus(); return; }
    run('resend', async (list) => {
      const r = (await post(`/v1/messages/${list[0]}/resend`, { contact, channel })).body || {};
      const to = (r.deliveries || []).map((d) => d.to).filter(Boolean).join(', ');
      setStatus('ok', `Message ${list[0]} resent to ${contact} by ${channel}${to ? ` (${to})` : ''}.`);
      resendTo.value = '';
      hooks.done('resend', list);
    });
  });
  cancelForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const why = reason.value.trim();
    if (!why) { fieldError('cancel', 'Say why it is cancelled.'); reason.focus(); return; }
    run('cancel', async (list) => {
      await post(`/v1/messages/${list[0]}/cancel`, { reason: why });
      setStatus('ok', `Message ${list[0]} cancelled.`);
      reason.value = '';
      hooks.done('cancel', list);
    });
  });
  async function doSilence() {
    const list = hooks.targets().filter((t) => t.attention).map((t) => t.id);
    if (!list.length) { setStatus('', 'No alarm to silence here.'); return; }
    await run('silence', async () => {
      const done = [];
      for (const m of list) { await silence(m); done.push(m); }
      setStatus('ok', `Alarm silenced for ${names(done)}.`);
      hooks.done('silence', done);
    });
  }
  silenceBtn.addEventListener('click', doSilence);
  // Esc in a field gives the keys back to the screen (hooks.escape);
  // Enter on a chosen option does the action, as Enter in a text field does.
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && hooks.escape) { e.preventDefault(); e.stopPropagation(); hooks.escape(); }
    else if (e.key === 'Enter' && e.target.tagName === 'SELECT' && !e.ctrlKey && !e.altKey) {
      e.preventDefault();
      e.target.form.requestSubmit();
    }
  });

  // ---- what the panel shows for the targets
  async function update() {
    const list = hooks.targets();
    const seq = ++P.seq;
    root.classList.toggle('none', !list.length);
    for (const f of [ackForm, noteForm]) for (const c of f.elements) c.disabled = !list.length;
    if (!list.length) {
      target.textContent = 'No message chosen.';
    } else if (list.length === 1) {
      const t = list[0];
      target.replaceChildren(el('strong', { text: `Message ${t.id}` }),
        ` · ${(t.caller && t.caller.name) || 'no caller name'} · ${t.client_name || t.client}`);
    } else {
      target.replaceChildren(el('strong', { text: `${list.length} messages` }), ` selected: ${list.map((t) => t.id).join(', ')}`);
    }
    silenceBtn.hidden = !list.some((t) => t.attention);
    const one = list.length === 1 ? list[0] : null;
    oneOnly.hidden = list.length <= 1;
    for (const f of [escForm, resendForm, cancelForm]) {
      f.classList.toggle('off', !one);
      for (const c of f.elements) c.disabled = !one;
    }
    // escalate: from which step; "now" is the step after the one reached
    const esc = one && one.escalation;
    const sameMsg = escStep.dataset.for === String(one && one.id);
    const prevStep = sameMsg && escStep.dataset.chosen ? escStep.value : '';
    if (!sameMsg) delete escStep.dataset.chosen;
    if (sameMsg && document.activeElement === escStep) {
      /* the operator is choosing: the options stay as they are */
    } else if (!esc) {
      escStep.replaceChildren();
      escStep.append(el('option', { value: '', text: one ? 'No escalation policy' : '—' }));
      if (one) for (const c of escForm.elements) c.disabled = true;
    } else {
      escStep.replaceChildren();
      const next = esc.state === 'active' ? Math.min(esc.steps, (esc.step || 0) + 1) : 1;
      for (let k = 1; k <= esc.steps; k++) {
        escStep.append(el('option', { value: String(k),
          text: `Step ${k}${k === next && esc.state === 'active' ? ' (next, now)' : ''}` }));
      }
      escStep.value = prevStep && Number(prevStep) <= esc.steps ? prevStep : String(next);
    }
    escStep.dataset.for = String(one ? one.id : '');
    // resend: the client's contacts by channel (fetched once a minute)
    if (!one) { resendTo.replaceChildren(el('option', { value: '', text: '—' })); P.choicesFor = ''; return; }
    const key = `${one.id}`;
    if (P.choicesFor === key && resendTo.options.length > 1) return;
    const keep = P.choicesFor === key ? resendTo.value : '';
    let choices = [];
    try { choices = await resendChoices(one.client, one.deliveries || []); } catch { choices = []; }
    if (seq !== P.seq) return;                   // the targets changed meanwhile
    P.choicesFor = key;
    resendTo.replaceChildren(el('option', { value: '', text: 'Contact · channel…' }));
    for (const c of choices) {
      resendTo.append(el('option', { value: `${c.contact}|${c.channel}`,
        text: `${c.contact_name} · ${c.channel}${c.to.length ? ` · ${c.to.join(', ')}` : ''}` }));
    }
    if (keep) resendTo.value = keep;
  }

  const inputs = { ack: ackBy, note: noteText, escalate: escStep, resend: resendTo, cancel: reason };
  return {
    el: root,
    attach(container, h) {
      if (hooks !== h) {
        hooks = h;
        ackBy.value = ''; noteText.value = ''; reason.value = '';
        clearErrors();
        setStatus('', '');
        P.choicesFor = '';
        delete escStep.dataset.for;
      }
      if (root.parentNode !== container) container.append(root);
      update();
    },
    owner: () => hooks,
    update,
    status: setStatus,
    silence: doSilence,
    // focus('ack' | 'note' | 'escalate' | 'resend' | 'cancel'): the key's field
    focus(which) {
      const f = inputs[which];
      if (!f) return false;
      if (f.disabled) {
        setStatus('error', ids().length > 1 ? 'That works on one message at a time: select only one.'
          : which === 'escalate' ? 'This message has no escalation policy.' : 'Choose a message first.');
        return true;
      }
      f.focus();
      if (f.select && f.tagName === 'INPUT') f.select();
      return true;
    },
    clear() { ackBy.value = ''; noteText.value = ''; reason.value = ''; clearErrors(); setStatus('', ''); P.choicesFor = ''; },
  };
}
