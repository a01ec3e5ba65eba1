// The console's Board and Message screens in a real browser (Debian's
// Chromium driven by playwright-core) against a real pagegated and real
// SMTP sinks: tests/integration/t_console_board.sh starts them, writes the
// settings below to a JSON file and runs
//     node board.test.mjs SETTINGS.json
// Each check prints one line "ok - ..." or "not ok - ..."; "# ..." lines
// are comments.  The operator works with the keyboard, as on a call.
//
// settings: { url, operator, token, bearer, shots, mail (the sink's
//             directory), refusal (the refusing sink's reply), step1_s,
//             step2_s (the escalation's waits), client: {id, name},
//             alarm_client: {id, name} (its escalation runs out at once) }
import fs from 'node:fs';
import path from 'node:path';
import { T, ok, note, sleep, until, curlWith, mails, browser } from './lib.mjs';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const C = cfg.client;
const curl = curlWith(cfg);
const call = (method, p, body) => curl(method, p, { body });
const getMessage = (id) => call('GET', `/v1/messages/${id}`).body;
const post = (body) => {
  const r = call('POST', '/v1/messages', { client: C.id, kind: 'message', urgency: 'routine', fields: {}, ...body });
  return r.code === 201 ? r.body.id : null;
};
const mailTo = (id, addr) => mails(cfg.mail).filter((m) => m.message === id && m.rcpt.includes(`<${addr}>`));

// Before any page script: count the chimes (oscillators started) and
// keep the notifications raised, so the alarm can be checked.
const ALARM_PROBE = () => {
  window.__pg = { tones: 0, notes: [] };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...a) { window.__pg.tones++; return start.apply(this, a); };
  class N {
    constructor(title, o = {}) { this.title = title; this.tag = o.tag; window.__pg.notes.push({ title, body: o.body, tag: o.tag }); }
    close() {}
    static get permission() { return 'granted'; }
    static requestPermission() { return Promise.resolve('granted'); }
  }
  window.Notification = N;
};

const B = await browser();
const { page, ctx, problems } = B;
await ctx.addInitScript(ALARM_PROBE);
fs.mkdirSync(cfg.shots, { recursive: true });
let shotN = 0;
const shot = async (name, p = page) => {
  shotN++;
  await p.screenshot({ path: path.join(cfg.shots, `board-${String(shotN).padStart(2, '0')}-${name}.png`) });
};

const field = (name) => page.getByLabel(name, { exact: true });
// a field of the board (the message screen has its own of the same names)
const bfield = (name) => page.locator('#board').getByLabel(name, { exact: true });
const button = (name) => page.getByRole('button', { name, exact: true });
const rowOf = (id) => page.locator(`#board-rows tr[data-id="${id}"]`);
const rowIds = () => page.$$eval('#board-rows tr', (trs) => trs.map((t) => Number(t.dataset.id)));
const actStatus = () => page.locator('#act-status').textContent();
const focusedLabel = () => page.evaluate(() => {
  const a = document.activeElement;
  return a && a.labels && a.labels[0] ? a.labels[0].textContent : (a ? a.id : '');
});
// "10:10" in the browser's own zone, as the board shows times.
const hhmm = (iso) => page.evaluate((t) => new Intl.DateTimeFormat('en-GB',
  { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t)), iso);
// Puts the cursor on the row of message ID with the keys (j / k).
async function cursorTo(id) {
  const ids = await rowIds();
  if (!ids.includes(id)) return false;
  await page.locator('#board-rows tr.current').focus();
  for (let i = 0; i < ids.length + 1; i++) {
    const cur = await page.$eval('#board-rows tr.current', (t) => Number(t.dataset.id)).catch(() => null);
    if (cur === id) return true;
    const a = ids.indexOf(cur);
    await page.keyboard.press(a < ids.indexOf(id) ? 'j' : 'k');
  }
  return false;
}
const view = async (key, tab) => {
  await page.keyboard.press(key);
  return until(async () => (await page.getByRole('tab', { name: tab }).getAttribute('aria-selected')) === 'true');
};

try {
  // ---- sign in
  await page.goto(`${cfg.url}/`);
  await until(() => field('Operator').isVisible());
  await field('Operator').focus();
  await page.keyboard.type(cfg.operator);
  await page.keyboard.press('Tab');
  await page.keyboard.type(cfg.token);
  await page.keyboard.press('Enter');
  ok(await until(() => field('Client').isVisible()), 'signed in: Take a message');
  await until(async () => (await page.locator('#live-text').textContent()) === 'Live');

  // ================================================================ 1. escalation
  // A new user's way: dispatch an emergency from the console, watch it
  // escalate on the board, acknowledge it there.
  await page.keyboard.press('Control+k');
  await page.keyboard.type(C.name);
  await page.keyboard.press('Enter');
  await until(async () => (await focusedLabel()) === 'Caller name');
  await page.keyboard.type('Maria Lopez');
  await page.keyboard.press('Tab');
  await page.keyboard.type('555 555 0142');
  await page.keyboard.press('Tab');                       // Company
  await page.keyboard.press('Tab');                       // Service address
  await page.keyboard.type('14 Oak St');
  await page.keyboard.press('Tab');                       // Urgency
  await page.keyboard.press('e');
  await page.keyboard.press('Tab');                       // Message
  await page.keyboard.type('No heat, two small children at home, pipes may freeze.');
  await page.keyboard.press('Control+Shift+Enter');
  const st = await until(async () => {
    const t = await page.getByRole('status').first().textContent();
    return /Dispatched/.test(t) && t.match(/Message (\d+)/);
  });
  const esc = st ? Number(st[1]) : 0;
  ok(esc, 'an emergency dispatched from the console (Ctrl+Shift+Enter)');
  const t0 = Date.now();

  await page.keyboard.press('Control+b');
  ok(await until(() => page.getByRole('table', { name: 'Messages' }).isVisible()), 'Ctrl+B opens the board: a table of messages');
  ok(await until(() => rowOf(esc).isVisible()), 'the dispatch is on the board (Needs a human)');
  const m1 = getMessage(esc);
  const next1 = m1.escalation && m1.escalation.next_step_at;
  const row1 = await until(async () => {
    const t = await rowOf(esc).textContent();
    return /Step 1 of 3/.test(t) && t.includes('Dr. Zoë Ångström') ? t : null;
  });
  ok(row1, 'its row shows step 1 of 3 and who was paged (Dr. Zoë Ångström)', await rowOf(esc).textContent());
  ok(row1 && next1 && row1.includes(`(${await hhmm(next1)})`) && /next in \d+ s/.test(row1),
    'and when the next step fires (in N s, at the server\'s next_step_at)', `${row1} / ${next1}`);
  ok(row1 && row1.includes('Maria Lopez') && row1.includes('+1 555 555 0142') && row1.includes(C.name),
    'with the caller, the number and the client');
  ok(row1 && /\d+ s\b/.test(row1) && /ago/.test(row1), 'with its age and the time since the last event');
  ok(await until(() => mailTo(esc, 'doc@clinic.example').length === 1, 10000), 'step 1 reached the sink (doc@)');
  await shot('board');

  // the board follows the event stream: step 2 fires and shows, no reload
  const row2 = await until(async () => {
    const t = await rowOf(esc).textContent();
    return /Step 2 of 3/.test(t) && t.includes('Nurse Kim Lee') ? t : null;
  }, (cfg.step1_s + 15) * 1000);
  ok(row2, 'step 2 fires and the board shows it live: step 2 of 3, Nurse Kim Lee paged', await rowOf(esc).textContent());
  const m2 = getMessage(esc);
  const next2 = m2.escalation && m2.escalation.next_step_at;
  ok(m2.escalation && m2.escalation.steps_fired === 2 && next2, 'the server agrees: step 2 fired, step 3 due', JSON.stringify(m2.escalation));
  ok(await until(() => mailTo(esc, 'nurse@clinic.example').length === 1, 10000), 'step 2 reached the sink (nurse@)');
  await shot('board-step-2');

  // acknowledge from the board, on the nurse's behalf, with the keys
  ok(await cursorTo(esc), 'the cursor is put on the dispatch\'s row with J / K');
  await page.keyboard.press('a');
  ok((await focusedLabel()) === 'Acknowledged by', 'A puts the cursor in Acknowledged by');
  await page.keyboard.type('Nurse Kim Lee');
  await page.keyboard.press('Enter');
  ok(await until(async () => /Acknowledged message \d+ on behalf of Nurse Kim Lee/.test(await actStatus())),
    'Enter acknowledges: the panel says so', await actStatus());
  ok(await until(async () => !(await rowIds()).includes(esc), 3000),
    'the board refreshes at once: the acknowledged dispatch leaves Needs a human');
  const m3 = getMessage(esc);
  ok(m3.acknowledged && /^Nurse Kim Lee \(operator tester\)/.test(m3.acked_by), 'stored: acknowledged by Nurse Kim Lee (operator tester)', m3.acked_by);
  ok(m3.escalation && m3.escalation.state === 'acked', 'the escalation stopped (state acked)', JSON.stringify(m3.escalation));
  const ackEv = (m3.ledger || []).find((e) => e.type === 'acknowledged');
  ok(ackEv && ackEv.detail.includes('operator tester'), 'the ledger\'s acknowledgement names the operator', ackEv && ackEv.detail);
  // no later step: wait (bounded) past the time step 3 was due
  const due = Date.parse(next2) + 3000;
  await until(() => Date.now() > due, (cfg.step2_s + 10) * 1000);
  ok(Date.now() > due, 'waited past the time step 3 was due');
  ok(mailTo(esc, 'office@clinic.example').length === 0 && getMessage(esc).escalation.steps_fired === 2,
    'no later step reached the sink (nothing for office@, step 3 never fired)');
  note(`escalation: ${(Date.now() - t0) / 1000} s from dispatch to past step 3's time`);

  // ---- the message screen: the whole timeline
  ok(await view('6', 'All'), '6 shows All');
  await until(() => rowOf(esc).isVisible());
  await cursorTo(esc);
  await page.keyboard.press('Enter');
  ok(await until(async () => (await page.locator('#msg-h').textContent()) === `Dispatch ${esc}`),
    'Enter opens the message screen');
  const tl = await until(async () => {
    const t = await page.locator('#msg-timeline').textContent();
    return t.includes('Nurse Kim Lee (operator tester)') ? t : null;
  });
  ok(tl && /acknowledged/.test(tl), 'the timeline shows the acknowledgement and who did it');
  ok(tl && /escalated/.test(tl) && tl.includes('250 2.0.0 Ok'), 'and every step and attempt with the far end\'s reply');
  ok(/acknowledged/.test(await page.locator('#msg-esc').textContent()), 'the escalation\'s progress: stopped, acknowledged');
  const deliv = await page.locator('#msg-deliveries').textContent();
  ok(deliv.includes('Dr. Zoë Ångström') && deliv.includes('Nurse Kim Lee') && /sent/.test(deliv),
    'each delivery with its state');
  await shot('message');

  // escalate again from a chosen step, then acknowledge, on the message screen
  const mfield = (name) => page.locator('#message').getByLabel(name, { exact: true });
  await page.keyboard.press('e');
  ok((await focusedLabel()) === 'Escalate from step', 'E puts the cursor in Escalate from step');
  await page.keyboard.type('Step 3');
  ok((await mfield('Escalate from step').inputValue()) === '3', 'typing chooses step 3');
  await page.keyboard.press('Enter');
  ok(await until(async () => /escalates again from step 3/.test(await page.locator('#act-status').textContent())),
    'Enter escalates from step 3, now', await page.locator('#act-status').textContent());
  ok(await until(() => mailTo(esc, 'office@clinic.example').length === 1, 15000), 'step 3 reaches the sink (office@)');
  ok(await until(async () => /restarted|escalated again/.test(await page.locator('#msg-timeline').textContent())),
    'the timeline follows: escalated again, by the operator');
  await page.keyboard.press('a');
  ok((await focusedLabel()) === 'Acknowledged by', 'A on the message screen: Acknowledged by');
  await page.keyboard.press('Enter');
  ok(await until(() => getMessage(esc).acknowledged && /^operator tester/.test(getMessage(esc).acked_by)),
    'Enter with nobody named acknowledges it in the operator\'s own name', getMessage(esc).acked_by);
  ok(await until(async () => /Acknowledged/.test(await page.locator('#msg-tags').textContent())), 'the screen shows it acknowledged');
  await page.keyboard.press('Escape');
  ok(await until(() => page.getByRole('table', { name: 'Messages' }).isVisible()), 'Esc goes back to the board');

  // ================================================================ 2. failed, resend
  const bad = post({ urgency: 'urgent', caller: { name: 'Rita Refused', phone: '+1 555 555 0161' }, text: 'Invoice question, call back after 3.' });
  ok(bad, 'an urgent message for the billing desk (its relay refuses it)');
  ok(await until(() => getMessage(bad).state === 'failed', 20000), 'its delivery fails for good (550)');
  ok(await view('5', 'Failed'), '5 shows Failed');
  const rowF = await until(async () => {
    const t = await rowOf(bad).textContent();
    return t.includes('Billing desk') && t.includes(cfg.refusal) ? t : null;
  });
  ok(rowF, 'the failed delivery is on the board with the far end\'s reason', await rowOf(bad).textContent().catch(() => ''));
  ok(rowF && /overdue/i.test(rowF), 'and the row is marked overdue');
  await cursorTo(bad);
  await page.keyboard.press('r');
  ok((await focusedLabel()) === 'Resend to', 'R puts the cursor in Resend to');
  const resendTo = bfield('Resend to');
  await until(async () => (await resendTo.locator('option').count()) > 2);
  const options = await resendTo.locator('option').allTextContents();
  ok(options.some((o) => o.startsWith('Front Office · email')), 'the contacts to resend to include Front Office by email', options.join(' | '));
  await page.keyboard.type('Front Office');
  ok((await resendTo.inputValue()) === 'office|email', 'typing the name chooses it', await resendTo.inputValue());
  await shot('board-failed-resend');
  await page.keyboard.press('Enter');
  ok(await until(async () => /resent to office by email/.test(await actStatus())), 'Enter resends: the panel says so', await actStatus());
  ok(await until(() => mailTo(bad, 'office@clinic.example').length === 1, 15000),
    'the resent mail reaches the sink (office@), as the same message (X-Pagegate-Message)');
  const mb = getMessage(bad);
  const resent = (mb.ledger || []).find((e) => e.type === 'resent');
  ok(resent && resent.detail === 'by tester to office by email', 'the ledger links the resend to the same message, with the operator',
    resent && resent.detail);
  ok((mb.deliveries || []).length === 2 && mb.deliveries.some((d) => d.contact === 'office' && (d.state === 'sent' || d.state === 'delivered')),
    'a new delivery of the same message, sent', JSON.stringify((mb.deliveries || []).map((d) => [d.contact, d.state])));

  ok(await view('1', 'Needs a human'), '1 shows Needs a human');
  ok(await until(async () => !(await rowIds()).includes(bad)), 'resent, the failure needs nobody: the row leaves Needs a human');

  // ================================================================ 3. live, but not under the hand
  const sel = post({ urgency: 'emergency', caller: { name: 'Sal Select', phone: '+1 555 555 0170' }, text: 'Water heater leaking.' });
  ok(await until(async () => (await rowIds()).includes(sel)), 'an emergency on the board to select');
  await cursorTo(sel);
  await page.keyboard.press('x');
  ok(await until(async () => (await page.locator('#board-selected').textContent()).startsWith('1 selected')), 'X selects the row');
  const shown = await rowIds();
  const fresh = post({ urgency: 'emergency', caller: { name: 'Paula Pause', phone: '+1 555 555 0171' }, text: 'Basement flooding.' });
  const newBtn = page.locator('#board-new');
  ok(await until(async () => (await newBtn.isVisible()) && /^\d+ new — show$/.test((await newBtn.textContent()).replace(/\s*U$/, '').trim()), 10000),
    'a new message while a row is selected waits behind "N new — show"', await newBtn.textContent());
  ok(!(await rowIds()).includes(fresh) && JSON.stringify(await rowIds()) === JSON.stringify(shown), 'the rows under the operator\'s hand do not move');
  await shot('board-paused');
  await page.keyboard.press('u');
  ok(await until(async () => (await rowIds()).includes(fresh)), 'U shows them: the new message is on the board');
  ok(await rowOf(sel).locator('input[type=checkbox]').isChecked(), 'and the selection is kept');
  await page.keyboard.press('Escape');
  ok((await page.locator('#board-selected').textContent()) === '', 'Esc clears the selection');
  const fresh2 = post({ urgency: 'emergency', caller: { name: 'Live Again', phone: '+1 555 555 0172' }, text: 'Roof leak.' });
  ok(await until(async () => (await rowIds()).includes(fresh2), 10000), 'with nothing selected the board follows the stream again by itself');

  // ================================================================ 4. bulk acknowledge, notes
  const bulk = ['Alpha', 'Beta', 'Gamma'].map((n, i) => post({ urgency: 'emergency',
    caller: { name: `Bulk ${n}`, phone: `+1 555 555 018${i}` }, text: `Bulk test ${n}.` }));
  ok(bulk.every(Boolean), 'three emergencies to acknowledge together');
  await page.keyboard.press('/');
  ok((await focusedLabel()) === 'Search', '/ puts the cursor in Search');
  await page.keyboard.type('bulk');
  await page.keyboard.press('Enter');
  ok(await until(async () => JSON.stringify((await rowIds()).sort()) === JSON.stringify([...bulk].sort())),
    'a search by caller name finds the three', JSON.stringify(await rowIds()));
  await page.keyboard.press('Control+a');
  ok(await until(async () => (await page.locator('#board-selected').textContent()).startsWith('3 selected')), 'Ctrl+A selects the three');
  await page.keyboard.press('a');
  await page.keyboard.type('Front desk');
  await shot('board-bulk');
  await page.keyboard.press('Enter');
  ok(await until(async () => /Acknowledged messages [\d, ]+ on behalf of Front desk/.test(await actStatus())), 'bulk acknowledge: the panel says so', await actStatus());
  ok(bulk.every((id) => { const m = getMessage(id); return m.acknowledged && /^Front desk \(operator tester\)/.test(m.acked_by); }),
    'all three are acknowledged by Front desk (operator tester)');
  ok(await until(async () => (await rowIds()).length === 0, 3000), 'and leave the board at once');

  ok(await view('6', 'All'), 'All');
  ok(await until(async () => (await rowIds()).length === 3), 'the search still finds the three in All');
  await page.locator('#board-rows tr.current').focus();
  const first = (await rowIds())[0];
  const second = (await rowIds())[1];
  await cursorTo(first);
  await page.keyboard.press('x');
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  ok(await until(async () => (await page.locator('#board-selected').textContent()).startsWith('2 selected')), 'two rows selected with X, J, X');
  await page.keyboard.press('n');
  ok((await focusedLabel()) === 'Note', 'N puts the cursor in Note');
  const noteText = 'Called the caller back: all fine, no visit needed.';
  await page.keyboard.type(noteText);
  await page.keyboard.press('Enter');
  ok(await until(async () => /Note added to messages/.test(await actStatus())), 'the note is added to both', await actStatus());
  const noted = bulk.filter((id) => (getMessage(id).ledger || []).some((e) => e.type === 'note' && e.detail === `tester: ${noteText}`));
  ok(JSON.stringify(noted.sort()) === JSON.stringify([first, second].sort()), 'exactly the two selected carry the note in their ledger, by the operator',
    JSON.stringify(noted));
  await page.locator('#board-clear').click();

  // ================================================================ 5. check-in
  const kept = [
    post({ caller: { name: 'Cora Checkin', phone: '+1 555 555 0191' }, text: 'Lab results ready for Mrs. Cora.' }),
    post({ caller: { name: 'Carl Checkin', phone: '+1 555 555 0192' }, text: 'Please renew the prescription for Carl.' }),
  ];
  ok(kept.every((id) => id && getMessage(id).deliveries[0].state === 'waiting'), 'two messages kept in Dr. Lee\'s check-in mailbox');
  ok(await view('4', 'Check-in'), '4 shows Check-in');
  ok(await until(async () => (await rowIds()).filter((id) => kept.includes(id)).length === 2),
    'both are on the Check-in view');
  await page.locator('#board-rows tr.current').focus();
  await page.keyboard.press('m');
  ok((await focusedLabel()) === 'Checked in', 'M puts the cursor in Checked in');
  const who = bfield('Checked in');
  ok(await until(async () => /Dr\. Lee · Test Clinic · 2 waiting/.test(await who.locator('option:checked').textContent())),
    'Dr. Lee is offered, with 2 waiting', await who.locator('option:checked').textContent());
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: /Messages for Dr\. Lee/ });
  ok(await until(() => dialog.isVisible()), 'Enter reads the mailbox out on screen');
  const read = await dialog.textContent();
  ok(read.includes('Lab results ready for Mrs. Cora.') && read.includes('Please renew the prescription for Carl.'),
    'both messages are shown in full to read out');
  await shot('board-checkin-readout');
  ok(kept.every((id) => {
    const m = getMessage(id);
    return m.deliveries[0].state === 'delivered'
      && (m.ledger || []).some((e) => e.type === 'delivered' && /Dr\. Lee/.test(e.detail) && /tester/.test(e.detail));
  }), 'both are marked delivered, the ledger naming Dr. Lee and the operator who read them',
  JSON.stringify(getMessage(kept[0]).ledger.slice(-1)));
  await page.keyboard.press('Escape');
  ok(await until(async () => !(await dialog.isVisible())), 'Esc closes the read-out');
  ok(await until(async () => (await rowIds()).filter((id) => kept.includes(id)).length === 0), 'the check-in view empties');

  // ---- search: phone digits, client, message id, dates
  const lake = call('POST', '/v1/messages', { client: cfg.alarm_client.id, urgency: 'routine',
    caller: { name: 'Lena Lake', phone: '+1 612 555 0150' }, text: 'Appointment question.' }).body.id;
  ok(await view('6', 'All'), 'All, for the searches');
  ok(await until(async () => (await rowIds()).includes(lake)), 'All shows every client\'s messages');
  const search = async (fill) => {
    for (const [name, v] of Object.entries(fill)) await bfield(name).fill(v);
    await bfield('Search').focus();
    await page.keyboard.press('Enter');
    await sleep(100);
  };
  const onlyRows = (want) => until(async () => JSON.stringify((await rowIds()).sort()) === JSON.stringify([...want].sort()));
  await search({ Search: '555-0161', 'Message id': '', From: '', To: '' });
  ok(await onlyRows([bad]), 'a search by part of the caller\'s phone finds Rita', JSON.stringify(await rowIds()));
  await search({ Search: String(C.name).slice(0, 4).toLowerCase() });
  ok(await until(async () => {
    const ids = await rowIds();
    return [esc, bad, fresh, ...bulk, ...kept].every((id) => ids.includes(id)) && !ids.includes(lake);
  }), 'a search by client finds that client\'s messages only', JSON.stringify(await rowIds()));
  await search({ Search: '', 'Message id': String(fresh) });
  ok(await onlyRows([fresh]), 'the message id finds that one');
  const today = await page.evaluate(() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; });
  const tomorrow = await page.evaluate(() => { const d = new Date(Date.now() + 86400e3); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; });
  await search({ 'Message id': '', From: today, To: today });
  ok(await until(async () => (await rowIds()).includes(bad) && (await rowIds()).includes(esc)), 'received today: From and To today find them');
  await search({ From: tomorrow, To: '' });
  ok(await until(async () => (await rowIds()).length === 0 && /Nothing matches/.test(await page.locator('#board-empty').textContent())),
    'from tomorrow: nothing, and the board says so');
  await page.locator('#board-clear').click();

  // ---- cancel: the reason is required
  ok(await view('1', 'Needs a human'), '1 shows Needs a human');
  await until(async () => (await rowIds()).includes(fresh2));
  await cursorTo(fresh2);
  await page.keyboard.press('c');
  ok((await focusedLabel()) === 'Cancel reason', 'C puts the cursor in Cancel reason');
  await page.keyboard.press('Enter');
  ok(await until(async () => /Say why/.test(await page.locator('#act-cancel-err').textContent())) && getMessage(fresh2).state !== 'cancelled',
    'without a reason nothing is cancelled and the field says why');
  await page.keyboard.type('Caller rang back: the leak is fixed.');
  await page.keyboard.press('Enter');
  const cancelled = () => (getMessage(fresh2).ledger || []).find((e) => e.type === 'cancelled' && !e.delivery);
  ok(await until(cancelled), 'with a reason it is cancelled');
  const cx = cancelled();
  ok(cx && cx.detail.includes('Caller rang back: the leak is fixed.') && cx.detail.includes('tester'),
    'the ledger keeps the reason and the operator', cx && cx.detail);
  // (its mail had gone out, so the message stays "sent", but an operator
  // cancelled it: it needs nobody)
  ok(await until(async () => !(await rowIds()).includes(fresh2), 3000),
    'the board drops it at once');

  // ---- the whole board: what needs a human now
  const needs = await until(async () => {
    const ids = await rowIds();
    return ids.includes(fresh) ? ids : null;
  });
  ok(needs && bulk.every((id) => !needs.includes(id)) && !needs.includes(esc) && !needs.includes(bad) &&
    !needs.includes(fresh2),
    'the acknowledged, the resent and the cancelled messages are gone from it; the unacknowledged emergency stays', JSON.stringify(needs));
  ok(await until(async () => (await page.locator('#nav-board-count').textContent()) === String((await rowIds()).length)),
    'the Board link counts what needs a human', await page.locator('#nav-board-count').textContent());

  // ================================================================ 6. attention: the alarm
  const page2 = B.watch(await ctx.newPage());
  await page2.goto(`${cfg.url}/#board`);
  ok(await until(() => page2.getByRole('table', { name: 'Messages' }).isVisible()), 'a second console opens (same operator)');
  const A = cfg.alarm_client;
  const alarmed = call('POST', '/v1/messages', { client: A.id, kind: 'dispatch', urgency: 'emergency',
    caller: { name: 'Ola Nordmann', phone: '+1 612 555 0199' }, text: 'Child with a high fever, nobody answers.' }).body.id;
  ok(await until(() => getMessage(alarmed).unacknowledged, 20000), 'a dispatch whose escalation runs out is flagged unacknowledged');
  const banner = page.locator('#alarm');
  ok(await until(async () => (await banner.isVisible()) && (await banner.textContent()).includes(`message ${alarmed}`), 10000),
    'the console raises the alarm for it');
  ok(await until(async () => (await page2.locator('#alarm').isVisible()), 10000), 'so does the second console');
  const probe = await page.evaluate(() => window.__pg);
  ok(probe.tones > 0, 'a sound is played (Web Audio oscillators started)', JSON.stringify(probe));
  ok(probe.notes.some((n) => n.tag === `pagegate-${alarmed}` && /Unacknowledged/.test(n.title)),
    'a browser notification is raised for it', JSON.stringify(probe.notes));
  ok(await until(async () => (await rowIds())[0] === alarmed && /Alarm/.test(await rowOf(alarmed).textContent())),
    'its row comes first on the board, marked Alarm', `${JSON.stringify(await rowIds())} ${await page.locator('#board-new').textContent()} ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 80))}`);
  await shot('board-alarm');
  await page.locator('#alarm').getByRole('button', { name: 'Silence', exact: true }).click();
  ok(await until(async () => !(await banner.isVisible()), 5000), 'Silence stops the alarm');
  ok(await until(async () => !(await page2.locator('#alarm').isVisible()), 10000), 'in every open console');
  const sil = (getMessage(alarmed).ledger || []).find((e) => e.type === 'silenced');
  ok(sil && sil.detail === 'alarm silenced by tester', 'the ledger records who silenced it', sil && sil.detail);
  await page2.close();

  // ---- the key map
  await page.locator('#board-rows tr.current').focus().catch(() => {});
  await page.keyboard.press('?');
  const keys = page.getByRole('dialog', { name: 'Keys' });
  ok(await until(() => keys.isVisible()), '? shows the key map');
  const keyText = await keys.textContent();
  ok(['Ctrl+B', 'Acknowledge', 'Resend', 'Check-in', 'N new — show'].every((w) => keyText.replace(/\s*\+\s*/g, '+').includes(w)),
    'with the board\'s keys');
  await shot('board-keys');
  await page.keyboard.press('Escape');

  ok(problems.length === 0, 'no script error or Content-Security-Policy violation in the page', problems.join(' | '));
} catch (e) {
  ok(false, 'the browser test ran to its end', String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join(' / '));
  await shot('99-failure').catch(() => {});
} finally {
  await B.close();
}
console.log(`# browser checks done, ${T.failures} failed`);
process.exitCode = T.failures ? 1 : 0;
