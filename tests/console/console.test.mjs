// The operator console in a real browser (Debian's Chromium driven by
// playwright-core) against a real pagegated: tests/integration/t_console.sh
// starts the daemon and the SMTP sink, writes the settings below to a JSON
// file and runs
//     node console.test.mjs SETTINGS.json
// Each check prints one line "ok - ..." or "not ok - ..."; "# ..." lines
// are comments (the keystroke count among them).  What the mail must carry
// is written to settings.out for the shell to compare with the sink.
//
// settings: { url, operator, token, bearer, shots, out,
//             client: {id, name, dnis, greeting, field: {id, label}},
//             unknown_dnis }
import fs from 'node:fs';
import path from 'node:path';
import { T, ok, note, sleep, until, curlWith, browser } from './lib.mjs';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const C = cfg.client;
const out = { messages: [] };
const curl = curlWith(cfg);
const messageCount = () => {
  const r = curl('GET', '/v1/messages?limit=1000');
  return r.code === 200 ? r.body.messages.length : -1;
};
const getMessage = (id) => curl('GET', `/v1/messages/${id}`).body;

// ---------------------------------------------------------------- the browser

const B = await browser();
const { page, ctx, problems } = B;
fs.mkdirSync(cfg.shots, { recursive: true });
const shot = async (name) => { await page.screenshot({ path: path.join(cfg.shots, `${name}.png`) }); };

// Keystrokes: press() is a keystroke beyond the text; type() types text.
const K = {
  counting: false, extra: 0, chars: 0, log: [],
  async press(key) { if (this.counting) { this.extra++; this.log.push(key); } await page.keyboard.press(key); },
  async type(text) { if (this.counting) this.chars += [...text].length; await page.keyboard.type(text); },
};

const field = (name) => page.getByLabel(name, { exact: true });
const status = page.getByRole('status');
const focusedLabel = () => page.evaluate(() => {
  const a = document.activeElement;
  return a && a.labels && a.labels[0] ? a.labels[0].textContent : (a ? a.id : '');
});
const statusText = async () => (await status.textContent()) || '';
// The message id and reference the status line shows after a send.
async function sentStatus(prevText = '') {
  const t = await until(async () => {
    const s = await statusText();
    return s !== prevText && /Message \d+/.test(s) ? s : null;
  }, 10000);
  if (!t) return null;
  const m = t.match(/Message (\d+)/);
  const r = t.match(/reference (\d+)/);
  return { id: Number(m[1]), ref: r ? r[1] : null, text: t };
}
async function call(ani, dnis = C.dnis) {
  return curl('POST', '/v1/calls', { body: { dnis, ani, operator: cfg.operator } });
}

try {
  // ---- sign in
  await page.goto(cfg.url + '/');
  const opField = field('Operator');
  ok(await until(() => opField.isVisible()), 'the console at / shows the sign-in screen');
  ok(await field('Token').isVisible() && await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible(),
    'sign in has the fields Operator and Token and the button Sign in');
  await shot('01-sign-in');

  await opField.focus();
  await page.keyboard.type(cfg.operator);
  await page.keyboard.press('Tab');
  await page.keyboard.type('not-the-token');
  await page.keyboard.press('Enter');
  ok(await until(async () => /wrong operator or token/i.test(await page.locator('#signin-err').textContent())),
    'a wrong token is refused and the screen says so');
  await shot('02-sign-in-refused');

  await page.keyboard.press('Control+A');
  await page.keyboard.type(cfg.token);
  await page.keyboard.press('Enter');
  const clientField = field('Client');
  ok(await until(() => clientField.isVisible()), 'signing in with the keyboard opens Take a message');
  ok(await until(async () => (await page.locator('#live-text').textContent()) === 'Live'),
    'the event stream is live after sign-in');
  await shot('03-waiting-for-a-call');

  // ---- screen pop from POST /v1/calls, then a whole message by keyboard
  const ani = '+1 (555) 555-0100';
  const before = messageCount();
  const c1 = await call(ani);
  ok(c1.code === 202 && c1.body.client === C.id && c1.body.consoles >= 1,
    'POST /v1/calls (curl, bearer) answers 202 naming the client and the open console', JSON.stringify(c1));
  const popped = await until(async () => (await clientField.inputValue()) === C.name);
  ok(popped, `the call pops ${C.name} in the open console`);
  ok(await until(async () => (await field('Callback number').inputValue()) === '+1 555 555 0100'),
    'the caller\'s number is filled in, normalised', await field('Callback number').inputValue());
  ok(await until(async () => (await page.locator('#greeting').textContent()) === C.greeting),
    'the greeting to read is shown');
  ok(await until(async () => /now/.test(await page.locator('#oncall').textContent())), 'who is on call now is shown');
  ok(await until(async () => /Open|Closed/.test(await page.locator('#hours').textContent())), 'open or closed now is shown');
  ok(await until(async () => (await focusedLabel()) === 'Caller name'), 'the cursor is in Caller name after the pop');
  await until(async () => (await page.locator('#preview-send li').count()) > 0);
  await shot('04-call-popped');

  const typed = {
    name: 'Bà Nguyễn Thị Hương',
    company: 'Κατασκευές Παπαδόπουλος Α.Ε.',
    field: 'Οδός Ερμού 12, διαμέρισμα 4',
    text: 'Δεν υπάρχει θέρμανση στο διαμέρισμα. Bà Nguyễn Thị Hương gọi lại sau 18:00, ευχαριστώ!',
  };
  K.counting = true;
  await K.type(typed.name);
  await K.press('Tab');                 // Callback number (filled by the pop)
  await K.press('Tab');                 // Company
  await K.type(typed.company);
  await K.press('Tab');                 // the client's required field
  await K.type(typed.field);
  // Tab through the client's other fields to Urgency
  for (let i = 0; i < 8 && (await page.evaluate(() => document.activeElement.name)) !== 'urgency'; i++) await K.press('Tab');
  await K.press('u');                   // Urgent
  await K.press('Tab');                 // Message
  ok((await focusedLabel()) === 'Message', 'Tab order reaches Message after Urgency', await focusedLabel());
  await K.type(typed.text);
  await K.press('Control+Enter');       // Send
  const s1 = await sentStatus();
  K.counting = false;
  ok(s1, 'Ctrl+Enter sends: the status line shows the message id', await statusText());
  note(`keystrokes beyond the text: ${K.extra}`);
  note(`(those keys: ${K.log.join(' ')}; characters typed: ${K.chars})`);
  ok(K.extra <= 10, `a complete message costs ${K.extra} keystrokes beyond the text (at most 10)`);
  if (s1) {
    const m = getMessage(s1.id);
    ok(s1.ref && s1.ref === m.ack_ref, 'the status line gives the reference to read to the caller', `${s1.ref} vs ${m.ack_ref}`);
    ok(m.client === C.id && m.urgency === 'urgent' && m.kind === 'message', 'stored for the popped client, urgent, kind message',
      `${m.client} ${m.urgency} ${m.kind}`);
    ok(m.caller && m.caller.name === typed.name && m.caller.company === typed.company && m.caller.phone === '+1 555 555 0100',
      'the stored caller is exactly what was typed (Vietnamese, Greek)', JSON.stringify(m.caller));
    ok(m.text === typed.text, 'the stored text is exactly what was typed', m.text);
    ok(m.fields && m.fields[C.field.id] === typed.field, `the stored ${C.field.label} is exactly what was typed`);
    out.messages.push({ id: s1.id, ref: s1.ref, name: typed.name, phone: '+1 555 555 0100', company: typed.company,
      field_label: C.field.label, field: typed.field, text: typed.text });
  }
  ok(messageCount() === before + 1, 'one message stored');
  ok(await until(async () => / sent/.test((await page.locator('#progress').textContent()) || ''), 10000),
    'the event stream brings the delivery\'s progress under the status line',
    await page.locator('#progress').textContent());
  await shot('05-sent');

  // ---- a double press right after: nothing more
  await K.press('Control+Enter');
  await sleep(300);
  ok(messageCount() === before + 1, 'Send pressed again after the answer stores nothing more');

  // ---- a missing required field blocks sending and says which
  await call('+15555550111');
  await until(async () => (await field('Callback number').inputValue()) === '+1 555 555 0111');
  await until(async () => (await focusedLabel()) === 'Caller name');
  await page.keyboard.type('Νίκος Παπαδόπουλος');
  await field('Message').focus();
  await page.keyboard.type('Καλέστε με πίσω.');
  const n0 = messageCount();
  await page.keyboard.press('Control+Enter');
  ok(await until(async () => (await statusText()).includes(`${C.field.label} is required`)),
    `a missing ${C.field.label} blocks sending and the status line says which`, await statusText());
  ok(await until(async () => (await focusedLabel()) === C.field.label), `the cursor is put on ${C.field.label}`,
    await focusedLabel());
  const errId = await field(C.field.label).getAttribute('aria-describedby');
  ok(errId && (await page.locator(`#${errId.split(' ').pop()}`).textContent()).includes('required'),
    'the error is next to the field and described by it');
  ok(messageCount() === n0, 'nothing was stored');
  await shot('06-missing-field');

  // ---- a double press of Send stores one message
  await page.keyboard.type('Λεωφόρος Συγγρού 7');
  const prev2 = await statusText();
  await page.keyboard.press('Control+Enter');
  await page.keyboard.press('Control+Enter');
  const s2 = await sentStatus(prev2);
  await sleep(300);
  ok(s2 && messageCount() === n0 + 1, 'a double press of Send stores one message', `count ${messageCount()} vs ${n0 + 1}`);

  // ---- a retried request: the answer is lost, the retry stores nothing more
  await call('+15555550122');
  await until(async () => (await field('Callback number').inputValue()) === '+1 555 555 0122');
  await field('Caller name').fill('Lost Answer');
  await field(C.field.label).fill('1 Retry Rd');
  await field('Message').fill('The first answer never reaches the page.');
  const keys = [];
  let lose = true;
  await page.route('**/v1/messages', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (lose) { lose = false; await route.fetch(); await route.abort('connectionreset'); } else await route.continue();
  });
  const n1 = messageCount();
  await page.keyboard.press('Control+Enter');
  ok(await until(async () => /Not confirmed/.test(await statusText())),
    'a lost answer says the message is not confirmed and to press Send again', await statusText());
  const stored = messageCount();
  await page.keyboard.press('Control+Enter');
  const s3 = await sentStatus();
  await page.unroute('**/v1/messages');
  ok(stored === n1 + 1 && s3 && messageCount() === n1 + 1,
    'the retry (same submission) answers with the stored message and stores nothing more', `${stored} ${messageCount()} ${n1}`);
  ok(keys.length === 2 && keys[0] && keys[0] === keys[1], 'both tries carried the same Idempotency-Key', keys.join(' '));

  // ---- a lost answer, then the message edited: another message, its own key
  await call('+15555550144');
  await until(async () => (await field('Callback number').inputValue()) === '+1 555 555 0144');
  await field('Caller name').fill('Edited Retry');
  await field(C.field.label).fill('2 Retry Rd');
  await field('Message').fill('Leaking tap.');
  const keys2 = [];
  let lose2 = true;
  await page.route('**/v1/messages', async (route) => {
    keys2.push(route.request().headers()['idempotency-key']);
    if (lose2) { lose2 = false; await route.fetch(); await route.abort('connectionreset'); } else await route.continue();
  });
  const e1 = messageCount();
  await page.keyboard.press('Control+Enter');
  await until(async () => /Not confirmed/.test(await statusText()));
  await field('Message').fill('Leaking tap. Now the ceiling is wet: send someone.');
  await page.keyboard.press('Control+Enter');
  const sEdit = await sentStatus();
  await page.unroute('**/v1/messages');
  ok(sEdit && messageCount() === e1 + 2,
    'an edited retry is sent as a message of its own (not refused, not dropped)', `${sEdit} ${messageCount()} ${e1}`);
  ok(keys2.length === 2 && keys2[0] && keys2[1] && keys2[0] !== keys2[1],
    'with a key of its own (the server refuses a key reused for another body)', keys2.join(' '));

  // ---- the API's own error shown next to the field it names
  await call('+15555550133');
  await until(async () => (await field('Callback number').inputValue()) === '+1 555 555 0133');
  await field('Caller name').fill('Short Number');
  await field('Callback number').fill('12');
  await field(C.field.label).fill('2 Error Way');
  await field('Message').fill('The number is too short.');
  const n2 = messageCount();
  await page.keyboard.press('Control+Enter');
  ok(await until(async () => /digits/.test((await page.locator('#e-caller-phone').textContent()) || '')),
    'the API\'s error on caller.phone is shown next to Callback number', await page.locator('#e-caller-phone').textContent());
  ok((await focusedLabel()) === 'Callback number', 'and the cursor is put there');
  ok(messageCount() === n2, 'nothing was stored');

  // ---- the route preview follows the urgency; Dispatch by key
  await field('Callback number').fill('+1 555 555 0133');
  const routine = await page.locator('#preview-send').textContent();
  await page.getByRole('radio', { name: 'Routine' }).focus();
  await page.keyboard.press('e');
  const emergency = await until(async () => {
    const t = await page.locator('#preview-send').textContent();
    return /emergency/i.test(t) && t !== routine ? t : null;
  });
  ok(emergency && emergency.includes(C.emergency_contact) && !routine.includes(C.emergency_contact),
    `the route preview follows the urgency (${C.emergency_contact} only for an emergency)`, `${routine} | ${emergency}`);
  await shot('07-emergency-preview');
  const prev4 = await statusText();
  await page.keyboard.press('Control+Shift+Enter');
  const s4 = await sentStatus(prev4);
  ok(s4 && /Dispatched/.test(s4.text) && getMessage(s4.id).kind === 'dispatch' && getMessage(s4.id).urgency === 'emergency',
    'Ctrl+Shift+Enter dispatches (kind dispatch, urgency emergency)', s4 && s4.text);

  // ---- the key map
  await page.locator('#status').focus();
  await page.keyboard.press('?');
  ok(await until(() => page.getByRole('dialog', { name: 'Keys' }).isVisible()), '? shows the key map');
  await shot('08-keys');
  await page.keyboard.press('Escape');
  ok(await until(async () => !(await page.getByRole('dialog', { name: 'Keys' }).isVisible())), 'Esc closes it');
  await field('Message').focus();
  await page.keyboard.press('?');
  ok(!(await page.getByRole('dialog', { name: 'Keys' }).isVisible()) && (await field('Message').inputValue()) === '?',
    '? typed in Message is text, not the key map');
  await field('Message').fill('');

  // ---- a call that rings in over a draft waits for F2
  await field('Caller name').focus();
  await page.keyboard.type('Draft Keeper');
  await call('+15555550166');
  const waiting = page.locator('#waiting');
  ok(await until(async () => (await waiting.isVisible()) && /Call waiting/.test(await waiting.textContent())),
    'a call over an unsent draft waits in a banner');
  ok((await field('Caller name').inputValue()) === 'Draft Keeper', 'and the draft is kept');
  await shot('09-call-waiting');
  await page.keyboard.press('F2');
  ok(await until(async () => (await field('Callback number').inputValue()) === '+1 555 555 0166'
    && (await field('Caller name').inputValue()) === '' && (await focusedLabel()) === 'Caller name'),
  'F2 takes the waiting call');

  // ---- a call for a number no client has
  const c5 = await call('+15555550144', cfg.unknown_dnis);
  ok(c5.code === 202 && c5.body.client === null, 'POST /v1/calls for an unknown number answers 202 with client null',
    JSON.stringify(c5));
  const noClient = page.locator('#no-client');
  ok(await until(async () => /No client has the number/.test(await noClient.textContent()) && (await focusedLabel()) === 'Client'),
    'an unknown number says so and puts the cursor in Client', `${await noClient.textContent()} / ${await focusedLabel()}`);
  await shot('10-unknown-number');
  // choose by typing part of the number, then Enter
  await page.keyboard.type(`${C.dnis.slice(0, 3)}-${C.dnis.slice(3, 6)}-${C.dnis.slice(6)}`);
  await page.keyboard.press('Enter');
  ok(await until(async () => (await clientField.inputValue()) === C.name && (await focusedLabel()) === 'Caller name'),
    'typing part of the client\'s number and Enter chooses it');

  // ---- the softphone URL
  await page.goto(`${cfg.url}/?dnis=${encodeURIComponent(C.dnis)}&ani=${encodeURIComponent('5555550155')}`);
  ok(await until(async () => (await clientField.inputValue()) === C.name
    && (await field('Callback number').inputValue()) === '+1 555 555 0155'),
  '/?dnis=...&ani=... pops the client with the caller\'s number');

  // ---- sessions: CSRF, sign out, the old cookie
  const cookie = (await ctx.cookies(cfg.url)).find((c) => c.name === 'pg_session');
  ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
  const csrf = (curl('GET', '/v1/session', { bearer: false, headers: { Cookie: `pg_session=${cookie.value}` } }).body || {}).csrf;
  const noCsrf = curl('POST', '/v1/calls', { bearer: false, headers: { Cookie: `pg_session=${cookie.value}` },
    body: { dnis: C.dnis, operator: cfg.operator } });
  ok(noCsrf.code === 403, 'a POST with the session cookie but no X-CSRF-Token is refused (403)', String(noCsrf.code));
  const badCsrf = curl('POST', '/v1/calls', { bearer: false,
    headers: { Cookie: `pg_session=${cookie.value}`, 'X-CSRF-Token': '0'.repeat(64) }, body: { dnis: C.dnis } });
  ok(badCsrf.code === 403, 'a POST with a wrong X-CSRF-Token is refused (403)', String(badCsrf.code));
  const withCsrf = curl('POST', '/v1/calls', { bearer: false,
    headers: { Cookie: `pg_session=${cookie.value}`, 'X-CSRF-Token': csrf || '' }, body: { dnis: cfg.unknown_dnis, operator: cfg.operator } });
  ok(withCsrf.code === 202, 'the same POST with the session\'s CSRF token is accepted (202)', String(withCsrf.code));

  await page.getByRole('button', { name: 'Sign out', exact: true }).focus();
  await page.keyboard.press('Enter');
  ok(await until(() => opField.isVisible()), 'Sign out goes back to the sign-in screen');
  await shot('11-signed-out');
  const stale = curl('GET', '/v1/session', { bearer: false, headers: { Cookie: `pg_session=${cookie.value}` } });
  ok(stale.code === 401, 'the signed-out session\'s cookie is refused (401)', String(stale.code));
  const staleMsg = curl('POST', '/v1/messages', { bearer: false,
    headers: { Cookie: `pg_session=${cookie.value}`, 'X-CSRF-Token': csrf || '' },
    body: { client: C.id, caller: { name: 'Stale', phone: '5555550100' }, text: 'stale', fields: { [C.field.id]: 'x' } } });
  ok(staleMsg.code === 401 || staleMsg.code === 403, 'a message posted with the old cookie and CSRF token is refused',
    String(staleMsg.code));

  ok(problems.length === 0, 'no script error or Content-Security-Policy violation in the page', problems.join(' | '));
} catch (e) {
  ok(false, 'the browser test ran to its end', String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join(' / '));
  await shot('99-failure').catch(() => {});
} finally {
  fs.writeFileSync(cfg.out, JSON.stringify(out));
  await B.close();
}
console.log(`# browser checks done, ${T.failures} failed`);
process.exitCode = T.failures ? 1 : 0;
