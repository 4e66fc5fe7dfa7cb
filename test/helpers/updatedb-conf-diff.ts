/** Structural comparison of an updatedb.conf before and after the patcher ran. */
const PRUNE_LINE = /^[ \t\r\f\v]*(PRUNEFS|PRUNEPATHS)[ \t\r\f\v]*=/;

/**
 * Null when `after` is `before` with only words added inside PRUNEFS/PRUNEPATHS
 * values, or new such lines at the end, and the final newline kept; else what differs.
 */
export function onlyPruneLinesChanged(before: string, after: string): string | null {
  const finalNl = (s: string) => s.endsWith('\n');
  if (before !== '' && finalNl(before) !== finalNl(after)) return 'the final newline changed';
  const lines = (s: string) => (s === '' ? [] : (finalNl(s) ? s.slice(0, -1) : s).split('\n'));
  const a = lines(before);
  const b = lines(after);
  if (b.length < a.length) return 'lines were removed';
  for (let i = 0; i < b.length; i++) {
    const old = a[i];
    const now = b[i] ?? '';
    if (old === now) continue;
    if (old === undefined) {
      if (!PRUNE_LINE.test(now)) return `added line ${i + 1} is not a prune line: ${now}`;
      continue;
    }
    if (!PRUNE_LINE.test(old)) return `line ${i + 1} changed but is not a prune line: ${old}`;
    const close = old.indexOf('"', old.indexOf('"') + 1);
    const head = old.slice(0, close);
    const tail = old.slice(close);
    if (!now.startsWith(head) || !now.endsWith(tail))
      return `line ${i + 1} changed outside its value: ${now}`;
    const added = now.slice(head.length, now.length - tail.length);
    if (!/^ ?[^\s"]+( [^\s"]+)*$/.test(added))
      return `line ${i + 1}: unexpected insertion ${JSON.stringify(added)}`;
  }
  return null;
}
