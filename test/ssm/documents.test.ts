/**
 * One offline validator over every SSM document: schema, parameters and their patterns (with good and
 * hostile values, in the document and in the script), placeholders, step timeouts, the description
 * layout, the exit codes documented in both places, and the build's byte-for-byte script placement.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AssembledDocument,
  assembleDocument,
  assembleDocuments,
  embeddedLibs,
  embedLibs,
  SSM_DOCUMENT_NAMES,
  SSM_SOURCE_DIR,
  SsmBuildError,
  toDocumentResourceProperties,
  writeDocuments,
} from '#shared/ssm/build.ts';
import { commandDocumentSchema } from '#shared/ssm/document-schema.ts';
import { Sandbox } from '#test/helpers/script-sandbox.ts';

const documents = assembleDocuments();
const scriptPath = (doc: AssembledDocument) => join(SSM_SOURCE_DIR, doc.name, `${doc.name}.sh`);
const scriptText = (doc: AssembledDocument) => readFileSync(scriptPath(doc), 'utf8');

/** Values every parameter must reject: injection, traversal, separators, whitespace, quoting. */
const HOSTILE = [
  "'",
  '"',
  ';',
  'a;b',
  '$(id)',
  '`id`',
  `$\{IFS}`,
  '\n',
  'check\n',
  '\ncheck',
  '..',
  '/mnt/..',
  '/mnt/../etc',
  ' ',
  ' check',
  'check ',
  '/mnt/a b',
  '|',
  '&&',
  '>',
  '*',
  '/mnt/*',
  '\\',
  '\0',
  '{{ssm:secret}}',
];

/** Values each parameter must accept. */
const GOOD: Record<string, string[]> = {
  Mode: ['check', 'apply'],
  PruneFsTypes: [
    '',
    'fuse.s3fs',
    'fuse.s3fs,fuse.goofys',
    'NFS,fuse.gvfsd-fuse,fuse',
    'fuse.s3fs,fuse.rclone,fuse.juicefs',
  ],
  PrunePaths: [
    '',
    '/mnt/data',
    '/mnt/data,/srv/s3',
    '/home/.ecryptfs',
    '/mnt/cg-1a2b3c',
    '/var/lib/s3_bucket-01',
  ],
  Mounts: ['', '/mnt/data', '/mnt/data,/mnt/logs', '/srv/s3fs@prod', '/mnt/a.b'],
};

/** Further values a given parameter must reject. */
const BAD: Record<string, string[]> = {
  Mode: ['', 'CHECK', 'apply,check', 'dry-run'],
  PruneFsTypes: ['fuse..s3fs', '.fuse', 'fuse.', 'fuse.s3fs,', ',fuse.s3fs', 'fuse.s3fs fuse', 'a.b.c'],
  PrunePaths: [
    '/',
    'mnt/data',
    '/mnt/data/',
    '/mnt//data',
    '/mnt/./data',
    '/mnt/data,',
    `${'/a'.repeat(17)}`,
  ],
  Mounts: [
    '/',
    'relative',
    '/mnt/data/',
    '/mnt/data,,/x',
    Array.from({ length: 21 }, (_, i) => `/m${i}`).join(','),
  ],
};

describe('SSM documents', () => {
  it('are the three documents of issue 3', () => {
    expect(documents.map((d) => d.name)).toEqual(['diagnose', 'patch-updatedb-conf', 'restart-s3fs']);
  });

  for (const doc of documents) {
    describe(doc.name, () => {
      const { content } = doc;
      const script = scriptText(doc);

      it('is a schemaVersion 2.2 Command document of Linux aws:runShellScript steps with timeouts', () => {
        expect(commandDocumentSchema.parse(content)).toEqual(content);
        expect(content.schemaVersion).toBe('2.2');
        for (const step of content.mainSteps) {
          expect(step.action).toBe('aws:runShellScript');
          expect(step.precondition).toEqual({ StringEquals: ['platformType', 'Linux'] });
          expect(step.inputs.timeoutSeconds).toBeGreaterThanOrEqual(60);
          expect(step.inputs.timeoutSeconds).toBeLessThanOrEqual(3600);
        }
        expect(new Set(content.mainSteps.map((s) => s.name)).size).toBe(content.mainSteps.length);
      });

      it('runs exactly the .sh file: the agent`s join("\\n") + "\\n" of runCommand gives it back byte for byte', () => {
        const [step] = content.mainSteps;
        expect(step).toBeDefined();
        expect(`${step?.inputs.runCommand.join('\n')}\n`).toBe(script);
        expect(script.startsWith('#!/bin/bash\n')).toBe(true);
      });

      it('leaves no build placeholder and no {{ }} in the script; every {{ }} elsewhere is declared', () => {
        const json = JSON.stringify(content);
        expect(json).not.toContain('<<script:');
        expect(script).not.toMatch(/\{\{/);
        const used = [...json.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map((m) => m[1]);
        for (const name of used) expect(Object.keys(content.parameters)).toContain(name);
      });

      it('embeds the current shared helpers', () => {
        expect(embedLibs(script, (lib) => readFileSync(join(SSM_SOURCE_DIR, 'lib', lib), 'utf8'))).toBe(
          script,
        );
        expect(embeddedLibs(script)).toContain('json.sh');
      });

      it('has the AWS description layout and documents the same exit codes as its script', () => {
        const d = content.description;
        const what = d.indexOf('### What does this document do?');
        const input = d.indexOf('### Input Parameters');
        const output = d.indexOf('### Output');
        expect(what).toBe(0);
        expect(input).toBeGreaterThan(what);
        expect(output).toBeGreaterThan(input);
        for (const name of Object.keys(content.parameters)) {
          expect(d.slice(input, output)).toContain(`* ${name}: `);
        }
        const codes = (text: string) =>
          [...new Set([...text.matchAll(/(?:^|[\s,:])(\d) (?:[a-zA-Z(])/g)].map((m) => m[1]))].sort();
        const documented = codes(d.slice(d.indexOf('Exit codes:')));
        const header = script.slice(0, script.indexOf('set -Eeuo pipefail'));
        expect(documented.length).toBeGreaterThanOrEqual(2);
        expect(codes(header.slice(header.indexOf('Exit codes:')))).toEqual(documented);
        for (const code of documented)
          expect(script).toMatch(new RegExp(`(finish \\w+ ${code}\\b|exit ${code}\\b|exitCode ${code})`));
      });

      it('fits SSM`s 64 KB document size limit with room to spare', () => {
        expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThan(56 * 1024);
      });

      for (const [name, parameter] of Object.entries(content.parameters)) {
        describe(`parameter ${name}`, () => {
          const pattern = new RegExp(parameter.allowedPattern);

          it('is passed as an environment variable and has a default that its pattern accepts', () => {
            expect(parameter.interpolationType).toBe('ENV_VAR');
            expect(parameter.default).toBeDefined();
            expect(pattern.test(parameter.default ?? '')).toBe(true);
          });

          it('has the same syntax in the document and in the script', () => {
            const item = new RegExp(`^readonly ITEM_${name}='([^']+)'$`, 'm').exec(script)?.[1];
            const whole = new RegExp(`^readonly PATTERN_${name}='([^']+)'$`, 'm').exec(script)?.[1];
            const expected = item === undefined ? whole : `^$|^${item}(,${item}){0,19}$`;
            expect(expected).toBeDefined();
            expect(parameter.allowedPattern).toBe(expected);
          });

          it('accepts good values', () => {
            for (const value of GOOD[name] ?? [])
              expect(pattern.test(value), JSON.stringify(value)).toBe(true);
          });

          it('rejects hostile values', () => {
            for (const value of [...HOSTILE, ...(BAD[name] ?? [])]) {
              expect(pattern.test(value), JSON.stringify(value)).toBe(false);
            }
          });

          it('is checked by the script itself, agreeing with the pattern (older agents do not check)', () => {
            const base = Object.fromEntries(
              Object.entries(content.parameters).map(([n, p]) => [
                `SSM_${n}`,
                n === 'Mode' ? 'check' : (p.default ?? ''),
              ]),
            );
            const values = fc.sample(
              fc.oneof(
                fc.constantFrom(
                  ...HOSTILE.filter((v) => !v.includes('\0')),
                  ...(BAD[name] ?? []),
                  ...(GOOD[name] ?? []),
                ),
                fc.string({
                  unit: fc.constantFrom('/', '.', ',', 'a', 'Z', '9', '-', '_', ' ', ';', '$', '\n', 'é'),
                }),
              ),
              { numRuns: 60, seed: 42 },
            );
            // A sandbox without updatedb and with an empty fake root: the script stops before touching anything.
            const box = new Sandbox();
            try {
              for (const value of values) {
                const params = Object.fromEntries(
                  Object.entries(base).map(([k, v]) => [k.slice(4), k === `SSM_${name}` ? value : v]),
                );
                const result = box.run(scriptPath(doc), params);
                expect(result.status === 2, `${JSON.stringify(value)}: ${result.stdout}`).toBe(
                  !pattern.test(value),
                );
              }
            } finally {
              box.dispose();
            }
          });
        });
      }
    });
  }
});

describe('the build', () => {
  it('writes build/ssm/<name>.json files that parse back to the assembled documents', () => {
    const out = mkdtempSync(join(tmpdir(), 'crawlguard-build-'));
    try {
      const paths = writeDocuments(out);
      expect(paths).toHaveLength(SSM_DOCUMENT_NAMES.length);
      for (const doc of documents) {
        expect(JSON.parse(readFileSync(join(out, `${doc.name}.json`), 'utf8'))).toEqual(doc.content);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('gives the template AWS::SSM::Document properties that its resource schema accepts', () => {
    const schema = JSON.parse(
      readFileSync(new URL('../fixtures/ssm-document/aws-ssm-document.json', import.meta.url), 'utf8'),
    );
    const cfnLint = JSON.parse(
      readFileSync(new URL('../fixtures/ssm-document/cfn-lint-document.json', import.meta.url), 'utf8'),
    );
    for (const doc of documents) {
      const props = toDocumentResourceProperties(doc, `Crawlguard-${doc.name}`);
      expect(schema.properties.DocumentType.enum).toContain(props.DocumentType);
      expect(schema.properties.DocumentFormat.enum).toContain(props.DocumentFormat);
      expect(schema.properties.UpdateMethod.enum).toContain(props.UpdateMethod);
      expect(props.UpdateMethod).toBe('NewVersion');
      expect(
        new RegExp(schema.properties.TargetType.pattern.replace(/\\\//g, '/')).test(props.TargetType),
      ).toBe(true);
      expect(new RegExp(schema.properties.Name.pattern).test(props.Name ?? '')).toBe(true);
      expect(cfnLint.properties.schemaVersion.enum).toContain(props.Content.schemaVersion);
      expect(props.Content).toBe(doc.content);
    }
  });

  describe('refuses bad sources', () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['a script with {{ }}', (dir) => appendTo(join(dir, 'diagnose/diagnose.sh'), 'echo {{ x }}\n'), /\{\{/],
      [
        'a script without a final newline',
        (dir) => writeFileSync(join(dir, 'diagnose/diagnose.sh'), '#!/bin/bash\ntrue'),
        /newline/,
      ],
      [
        'a script with CRLF',
        (dir) => writeFileSync(join(dir, 'diagnose/diagnose.sh'), '#!/bin/bash\r\ntrue\n'),
        /carriage/,
      ],
      [
        'a step without the placeholder',
        (dir) => replaceIn(join(dir, 'diagnose/document.yaml'), '- <<script:diagnose.sh>>', '- echo hi'),
        /placeholder/,
      ],
      [
        'a missing script',
        (dir) =>
          replaceIn(join(dir, 'diagnose/document.yaml'), '<<script:diagnose.sh>>', '<<script:nope.sh>>'),
        /cannot read/,
      ],
      [
        'an unknown key',
        (dir) =>
          replaceIn(join(dir, 'diagnose/document.yaml'), 'parameters: {}', 'parameters: {}\nassumeRoles: x'),
        /not a valid Command document/,
      ],
      [
        'a parameter without ENV_VAR',
        (dir) =>
          replaceIn(
            join(dir, 'restart-s3fs/document.yaml'),
            'interpolationType: ENV_VAR',
            'interpolationType: NONE',
          ),
        /not a valid Command document/,
      ],
      [
        'a step without a timeout',
        (dir) => replaceIn(join(dir, 'restart-s3fs/document.yaml'), '      timeoutSeconds: 900\n', ''),
        /not a valid Command document/,
      ],
    ];
    for (const [name, breakIt, message] of cases) {
      it(name, () => {
        const dir = mkdtempSync(join(tmpdir(), 'crawlguard-src-'));
        try {
          cpSync(SSM_SOURCE_DIR, dir, { recursive: true });
          breakIt(dir);
          const run = () => assembleDocuments(dir);
          expect(run).toThrow(SsmBuildError);
          expect(run).toThrow(message);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    it('builds each document alone from a healthy copy', () => {
      const dir = mkdtempSync(join(tmpdir(), 'crawlguard-src-'));
      try {
        cpSync(SSM_SOURCE_DIR, dir, { recursive: true });
        expect(assembleDocument('restart-s3fs', dir).content).toEqual(documents[2]?.content);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

function appendTo(path: string, text: string) {
  writeFileSync(path, readFileSync(path, 'utf8') + text);
}

function replaceIn(path: string, from: string, to: string) {
  const before = readFileSync(path, 'utf8');
  if (!before.includes(from)) throw new Error(`${path} does not contain ${from}`);
  writeFileSync(path, before.replace(from, to));
}
