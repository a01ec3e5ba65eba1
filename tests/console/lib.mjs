// Helpers shared by the console's browser tests (console.test.mjs,
// board.test.mjs): the
// check lines, bounded polling, the API by curl (as a phone system or a
// script would call it), the SMTP sink's files, and Debian's Chromium.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const T = { failures: 0 };

// ok(cond, what, detail): one "ok - " / "not ok - " line; the condition.
export function ok(cond, what, detail = '') {
  if (cond) console.log(`ok - ${what}`);
  else { T.failures++; console.log(`not ok - ${what}${detail ? ` (${String(detail).replace(/\n/g, ' ')})` : ''}`); }
  return !!cond;
}
export const note = (s) => console.log(`# ${s}`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until(fn, ms): polls fn (sync or async) until it returns truthy; the value or null.
export async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    let v = null;
    try { v = await fn(); } catch { v = null; }
    if (v) return v;
    if (Date.now() > end) return null;
    await sleep(50);
  }
}

// curlWith(cfg)(METHOD, PATH, {body, headers, bearer = true}) -> {code,
// body (parsed JSON or text)}: the API called with curl, as a phone system
// or an operator's script would, with the bearer token unless told not.
export function curlWith(cfg) {
  return (method, p, { body, headers = {}, bearer = true } = {}) => {
    const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', method];
    if (bearer) args.push('-H', `Authorization: Bearer ${cfg.bearer}`);
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
    args.push(cfg.url + p);
    const raw = execFileSync('curl', args, { encoding: 'utf8' });
    const i = raw.lastIndexOf('\n');
    let parsed = raw.slice(0, i);
    try { parsed = JSON.parse(parsed); } catch { /* not JSON */ }
    return { code: Number(raw.slice(i + 1)), body: parsed };
  };
}

// The mails the SMTP sink wrote (smtp-sink -d DIR/msg.): [{file, message, rcpt, to}].
export function mails(dir) {
  let names = [];
  try { names = fs.readdirSync(dir).filter((n) => n.startsWith('msg.')); } catch { return []; }
  return names.map((n) => {
    const text = fs.readFileSync(path.join(dir, n), 'latin1');
    const head = text.split(/\r?\n\r?\n/)[0];
    const h = (name) => {
      const m = head.match(new RegExp(`^${name}:\\s*(.*)$`, 'mi'));
      return m ? m[1].trim() : '';
    };
    return { file: n, message: Number(h('X-Pagegate-Message')) || 0, rcpt: h('X-Rcpt-Args'), to: h('To') };
  });
}

// Debian's Chromium at 1366x768 with its own profile; problems collects
// script errors and Content-Security-Policy refusals.
export async function browser() {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const problems = [];
  const watch = (page) => {
    // Chromium logs every non-2xx answer as "Failed to load resource": the
    // tests provoke some on purpose; anything else is a problem.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    return page;
  };
  const page = watch(ctx.pages()[0] || await ctx.newPage());
  const close = async () => { await ctx.close(); fs.rmSync(userDir, { recursive: true, force: true }); };
  return { ctx, page, problems, watch, close };
}
