// Times shown in the client's own time zone, and small DOM helpers.

const cache = new Map();
function dtf(tz, opts) {
  const k = tz + JSON.stringify(opts);
  if (!cache.has(k)) {
    try { cache.set(k, new Intl.DateTimeFormat('en-GB', { timeZone: tz, ...opts })); }
    catch { cache.set(k, new Intl.DateTimeFormat('en-GB', opts)); }
  }
  return cache.get(k);
}

// "09:04" (today in tz) or "Mon 08:00" (another day).
export function clientTime(iso, tz, now = new Date()) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const day = dtf(tz, { year: 'numeric', month: '2-digit', day: '2-digit' });
  const hm = dtf(tz, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  if (day.format(d) === day.format(now)) return hm;
  const wd = dtf(tz, { weekday: 'short' }).format(d);
  if (Math.abs(d - now) < 6 * 86400e3) return `${wd} ${hm}`;
  return `${wd} ${dtf(tz, { day: 'numeric', month: 'short' }).format(d)} ${hm}`;
}

// The client's clock now: "Sun 09:04".
export function clockIn(tz, now = new Date()) {
  const wd = dtf(tz, { weekday: 'short' }).format(now);
  const hm = dtf(tz, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(now);
  return `${wd} ${hm}`;
}

// "4 min", "1 h 20 min", "45 s"
export function span(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

// "01:23" for a call timer.
export function mmss(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

// el('li', {class: 'x', id: 'y'}, 'text', child, ...): a DOM element.
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

export const $ = (id) => document.getElementById(id);

// Relative times for the board: "12 min" since ISO, "in 4 min" until it.
export function since(iso, now = Date.now()) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : span((now - t) / 1000);
}
export function until(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = (t - now) / 1000;
  return s > 0 ? `in ${span(s)}` : `${span(-s)} ago`;
}

// The operator's own clock: "10:10", "Mon 10:10" or "Mon 7 Dec 10:10".
export function localTime(iso, now = new Date()) {
  return clientTime(iso, undefined, now);
}

// "482 913": a reference read out in two halves.
export function ref(r) {
  const s = String(r || '');
  return s.length === 6 ? `${s.slice(0, 3)} ${s.slice(3)}` : s;
}
