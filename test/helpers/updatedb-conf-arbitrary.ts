/**
 * fast-check generators of updatedb.conf files: valid ones in every layout the grammar allows (order,
 * spacing, tabs, CRLF, comments anywhere, blank lines, no trailing newline, fuse.s3fs already present in
 * any case) and malformed ones, each a valid file with exactly one defect that makes updatedb exit 1.
 * Whether each generated file really is valid or malformed is checked against the real updatedb in the
 * end-to-end test, so these generators cannot drift from updatedb's own grammar unnoticed.
 */
import fc from 'fast-check';

export interface GeneratedConf {
  text: string;
  /** What the real updatedb must say about `text`. */
  kind: 'valid' | 'malformed';
  /** For malformed files, the defect injected. */
  defect?: string;
}

const FS_TYPES = [
  'NFS',
  'nfs',
  'nfs4',
  'tmpfs',
  'proc',
  'fuse',
  's3fs',
  'fuse.sshfs',
  'fuse.rclone',
  'fuse.ceph',
  'fuse.s3fs',
  'FUSE.S3FS',
  'Fuse.S3fs',
  'cifs',
];
const PATHS = [
  '/tmp',
  '/var/spool',
  '/media',
  '/mnt',
  '/mnt/cg-prop',
  '/mnt/cg-prop/',
  '/home/.ecryptfs',
  '/afs',
];
const NAMES = ['.git', '.bzr', '.hg', '.svn'];
const VARIABLES = ['PRUNEFS', 'PRUNEPATHS', 'PRUNE_BIND_MOUNTS', 'PRUNENAMES'] as const;

const space = fc.constantFrom('', ' ', '  ', '\t', ' \t');
const someSpace = fc.constantFrom(' ', '  ', '\t', ' \t ');
const commentText = fc.constantFrom('', ' comment', ' PRUNEFS="fuse.s3fs"', ' "quoted" = #', ' x', 'é ü');

function listValue(pool: readonly string[]) {
  return fc
    .tuple(fc.subarray([...pool]), fc.array(someSpace, { minLength: 20, maxLength: 20 }), space, space)
    .map(([items, seps, lead, tail]) =>
      items.length === 0
        ? lead
        : lead + items.map((item, i) => (i === 0 ? '' : seps[i]) + item).join('') + tail,
    );
}

const valueFor: Record<(typeof VARIABLES)[number], fc.Arbitrary<string>> = {
  PRUNEFS: listValue(FS_TYPES),
  PRUNEPATHS: listValue(PATHS),
  PRUNE_BIND_MOUNTS: fc.constantFrom('yes', 'no', '0', '1'),
  PRUNENAMES: listValue(NAMES),
};

function assignment(name: (typeof VARIABLES)[number]) {
  return fc
    .tuple(space, space, space, valueFor[name], space, fc.option(commentText, { nil: undefined }))
    .map(
      ([lead, before, after, value, tail, comment]) =>
        `${lead}${name}${before}=${after}"${value}"${tail}${comment === undefined ? '' : `#${comment}`}`,
    );
}

const filler = fc.oneof(
  fc.constantFrom('', ' ', '\t'),
  commentText.map((text) => `#${text}`),
  fc.tuple(space, commentText).map(([lead, text]) => `${lead}#${text}`),
);

/** The lines of a valid file: a random subset of the variables, in random order, among filler lines. */
const validLines = fc
  .tuple(
    fc.shuffledSubarray([...VARIABLES]),
    fc.array(filler, { maxLength: 6 }),
    fc.array(fc.nat({ max: 100 }), { minLength: 6, maxLength: 6 }),
  )
  .chain(([names, fillers, positions]) =>
    fc.tuple(...names.map((name) => assignment(name))).map((assignments) => {
      const lines: string[] = [...assignments];
      fillers.forEach((line, i) => {
        lines.splice((positions[i] ?? 0) % (lines.length + 1), 0, line);
      });
      return { lines, names };
    }),
  );

function render(lines: readonly string[], crlf: boolean, finalNewline: boolean): string {
  const eol = crlf ? '\r\n' : '\n';
  if (lines.length === 0) return '';
  return lines.join(eol) + (finalNewline ? eol : '');
}

export const validConf: fc.Arbitrary<GeneratedConf> = fc
  .tuple(validLines, fc.boolean(), fc.boolean())
  .map(([{ lines }, crlf, finalNewline]) => ({ text: render(lines, crlf, finalNewline), kind: 'valid' }));

const DEFECTS: Record<string, (names: readonly string[]) => fc.Arbitrary<string>> = {
  duplicate: (names) =>
    names.length === 0
      ? fc.constant('PRUNEFS="a"\nPRUNEFS="b"')
      : fc.constantFrom(...names).chain((name) => assignment(name as (typeof VARIABLES)[number])),
  appendToSelf: () => fc.constant('PRUNEFS="$PRUNEFS fuse.s3fs"\nPRUNEFS="x"'),
  plusEquals: () => fc.constantFrom('PRUNEFS+="fuse.s3fs"', 'PRUNEPATHS += "/mnt"'),
  unterminated: () => fc.constantFrom('PRUNEFS="fuse.s3fs', 'PRUNEPATHS = "/tmp /mnt', 'PRUNENAMES="'),
  unknownVariable: () =>
    fc.constantFrom('FOO="bar"', 'prunefs="fuse.s3fs"', 'PRUNE_FS="x"', 'export PRUNEFS="x"'),
  unquoted: () => fc.constantFrom('PRUNEPATHS=/tmp', 'PRUNEFS = fuse.s3fs', 'PRUNE_BIND_MOUNTS=yes'),
  trailingData: () => fc.constantFrom('PRUNEFS="a" b', 'PRUNEFS="a" "b"', 'PRUNEFS="a"; PRUNEPATHS="b"'),
  badBoolean: () =>
    fc.constantFrom('PRUNE_BIND_MOUNTS="true"', 'PRUNE_BIND_MOUNTS="YES"', 'PRUNE_BIND_MOUNTS=""'),
  missingEquals: () => fc.constantFrom('PRUNEFS "a"', 'PRUNEPATHS'),
  garbage: () => fc.constantFrom(';', '= "x"', '[section]', '"PRUNEFS"="x"'),
};

/** A valid file with one defect inserted at a random line (a duplicate is only a defect after a first one). */
export const malformedConf: fc.Arbitrary<GeneratedConf> = fc
  .tuple(
    validLines,
    fc.constantFrom(...Object.keys(DEFECTS)),
    fc.nat({ max: 100 }),
    fc.boolean(),
    fc.boolean(),
  )
  .chain(([{ lines, names }, defect, position, crlf, finalNewline]) => {
    const make = DEFECTS[defect];
    if (make === undefined) throw new Error(`unknown defect ${defect}`);
    return make(names).map((bad) => {
      const out = [...lines];
      const at = defect === 'duplicate' ? out.length : position % (out.length + 1);
      out.splice(at, 0, ...bad.split('\n'));
      return { text: render(out, crlf, finalNewline), kind: 'malformed' as const, defect };
    });
  });

/** Both kinds, about 60% valid. */
export const anyConf: fc.Arbitrary<GeneratedConf> = fc.oneof(
  { arbitrary: validConf, weight: 3 },
  { arbitrary: malformedConf, weight: 2 },
);
