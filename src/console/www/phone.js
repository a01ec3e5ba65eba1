// Callback numbers: what the operator (or the phone system's ANI) typed,
// normalised to one form that is easy to read back to the caller.
//   "(555) 555-0142", "555.555.0142", "15555550142", "+15555550142"
//       -> "+1 555 555 0142"   (North American numbers)
//   "+44 20 7946 0958"  -> "+44 20 7946 0958"  (others: separators
//       become single spaces, digits are kept as given)
//   "555 555 0142 x12"  -> "+1 555 555 0142 x12" (an extension is kept)
// It never invents or drops a digit: digits(normalise(s)) === digits(s).

export function digits(s) { return String(s || '').replace(/\D/g, ''); }

export function normalisePhone(raw) {
  let s = String(raw || '').trim();
  if (!s) return '';
  let ext = '';
  const m = s.match(/^(.*?)\s*(?:x|ext\.?|extension)\s*(\d+)\s*$/i);
  if (m && digits(m[1]).length >= 3) { s = m[1]; ext = ` x${m[2]}`; }
  const plus = s.startsWith('+');
  const d = digits(s);
  if (!d) return String(raw).trim();
  if ((!plus && d.length === 10) || (d.length === 11 && d[0] === '1')) {
    const n = d.length === 11 ? d.slice(1) : d;
    return `+1 ${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}${ext}`;
  }
  // Anything else: keep the operator's grouping, tidied.
  const tidy = s.replace(/[^\d+]+/g, ' ').replace(/\s+/g, ' ').replace(/^\+\s*/, '+').trim();
  return tidy + ext;
}
