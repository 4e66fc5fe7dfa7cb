/**
 * An independent model of how updatedb reads /etc/updatedb.conf: a port of the lexer and parser of
 * mlocate's src/conf.c (uc_lex, parse_updatedb_conf), plus PRUNENAMES, which plocate also accepts.
 * Tests use it as an oracle next to the real updatedb; it shares no code with the shell scripts.
 */
export type ParsedConf =
  | {
      ok: true;
      vars: Partial<Record<'PRUNEFS' | 'PRUNEPATHS' | 'PRUNENAMES', string[]>>;
      bindMounts?: string;
    }
  | { ok: false; error: string; line: number };

type Token =
  | { kind: 'eof' | 'eol' | 'equal' | 'other'; line: number }
  | { kind: 'identifier' | 'quoted'; value: string; line: number };

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
const isAlpha = (c: string) => /^[A-Za-z]$/.test(c);
const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);

function* lex(text: string): Generator<Token> {
  let i = 0;
  let line = 1;
  for (;;) {
    while (i < text.length && isSpace(text[i] ?? '')) i++;
    const start = line;
    if (i >= text.length) {
      yield { kind: 'eof', line: start };
      return;
    }
    const c = text[i] ?? '';
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      if (i >= text.length) {
        yield { kind: 'eof', line: start };
        return;
      }
    }
    if (text[i] === '\n') {
      i++;
      line++;
      yield { kind: 'eol', line: start };
      continue;
    }
    if (c === '=') {
      i++;
      yield { kind: 'equal', line: start };
      continue;
    }
    if (c === '"') {
      const end = text.slice(i + 1).search(/["\n]/);
      if (end < 0 || text[i + 1 + end] === '\n') {
        // mlocate reports "missing closing `\"'" and keeps the rest of the line as the value.
        yield { kind: 'other', line: start };
        i = end < 0 ? text.length : i + 1 + end;
        continue;
      }
      yield { kind: 'quoted', value: text.slice(i + 1, i + 1 + end), line: start };
      i += end + 2;
      continue;
    }
    if (!isAlpha(c) && c !== '_') {
      i++;
      yield { kind: 'other', line: start };
      continue;
    }
    let j = i + 1;
    while (j < text.length && (isAlnum(text[j] ?? '') || text[j] === '_')) j++;
    yield { kind: 'identifier', value: text.slice(i, j), line: start };
    i = j;
  }
}

/** Parses like updatedb: the first error fails the whole file, as updatedb then exits 1. */
export function parseConf(text: string): ParsedConf {
  const vars: Partial<Record<'PRUNEFS' | 'PRUNEPATHS' | 'PRUNENAMES', string[]>> = {};
  let bindMounts: string | undefined;
  const seen = new Set<string>();
  const tokens = lex(text);
  const next = (): Token => tokens.next().value ?? { kind: 'eof', line: 0 };
  for (;;) {
    const t = next();
    if (t.kind === 'eof')
      return bindMounts === undefined ? { ok: true, vars } : { ok: true, vars, bindMounts };
    if (t.kind === 'eol') continue;
    const fail = (error: string): ParsedConf => ({ ok: false, error, line: t.line });
    if (t.kind !== 'identifier') return fail('variable name expected');
    const name = t.value;
    if (!['PRUNEFS', 'PRUNEPATHS', 'PRUNENAMES', 'PRUNE_BIND_MOUNTS'].includes(name)) {
      return fail(`unknown variable ${name}`);
    }
    if (seen.has(name)) return fail(`variable ${name} was already defined`);
    seen.add(name);
    if (next().kind !== 'equal') return fail('= expected after variable name');
    const value = next();
    if (value.kind !== 'quoted') return fail('value in quotes expected after =');
    if (name === 'PRUNE_BIND_MOUNTS') {
      if (!['0', '1', 'no', 'yes'].includes(value.value))
        return fail(`invalid PRUNE_BIND_MOUNTS ${value.value}`);
      bindMounts = value.value;
    } else {
      vars[name as 'PRUNEFS'] = value.value.split(/[ \t\r\f\v\n]+/).filter((word) => word !== '');
    }
    const end = next();
    if (end.kind !== 'eol' && end.kind !== 'eof') return fail('unexpected data after variable value');
    if (end.kind === 'eof')
      return bindMounts === undefined ? { ok: true, vars } : { ok: true, vars, bindMounts };
  }
}
