import { describe, expect, it } from 'vitest';
import { errorNameProblems, findErrorClasses, typeScriptSources } from '#shared/tooling/error-names.ts';
import { ROOT } from '#test/support/handlers.ts';

// Seeded sources are built from lines so that this file holds no class declaration of its own.
const source = (...lines: string[]) => [{ path: 'seeded.ts', text: lines.join('\n') }];
const BASE = [
  'export class CrawlguardError extends Error {',
  "  override readonly name: string = 'CrawlguardError';",
  '}',
];

describe('error classes declare their names (minification renames classes)', () => {
  it('holds for every error class in shared/, functions/ and test/', () => {
    const files = typeScriptSources(ROOT, ['shared', 'functions', 'test']);
    const classes = findErrorClasses(files);
    // Every class the tree declares as extending CrawlguardError is among those checked.
    const declared = files.flatMap((f) =>
      [...f.text.matchAll(/^\s*(?:export\s+)?class\s+(\w+)\s+extends\s+CrawlguardError\b/gm)].map(
        (m) => m[1],
      ),
    );
    expect(declared.length).toBeGreaterThanOrEqual(10);
    expect(classes.map((c) => c.name)).toEqual(expect.arrayContaining([...declared, 'CrawlguardError']));
    for (const c of classes) expect(c.declaredName, `${c.path}:${c.line} ${c.name}`).toBe(c.name);
    expect(errorNameProblems(files)).toEqual([]);
  });

  it('accepts a literal name as a field or assigned in the constructor', () => {
    expect(
      errorNameProblems(
        source(
          ...BASE,
          'export class PublishError extends CrawlguardError {',
          "  override readonly name = 'PublishError';",
          '}',
          'export class SsmBuildError extends Error {',
          '  constructor(message: string) {',
          '    super(message);',
          "    this.name = 'SsmBuildError';",
          '  }',
          '}',
        ),
      ),
    ).toEqual([]);
  });

  it('finds a class that declares no name, even two levels below CrawlguardError', () => {
    const problems = errorNameProblems(
      source(
        ...BASE,
        'export class InvalidEventError extends CrawlguardError {}',
        'class ForgedAlarmError extends InvalidEventError {',
        '  readonly alarm = "{not a name}";',
        '}',
      ),
    );
    expect(problems).toEqual([
      "seeded.ts:4: class InvalidEventError does not declare its name (add: override readonly name = 'InvalidEventError';)",
      "seeded.ts:5: class ForgedAlarmError does not declare its name (add: override readonly name = 'ForgedAlarmError';)",
    ]);
  });

  it('finds a name that is not the class name, or not a literal', () => {
    expect(
      errorNameProblems(
        source(
          ...BASE,
          'export class QueueError extends CrawlguardError {',
          "  override readonly name = 'PublishError';",
          '}',
          'export class ConfigError extends CrawlguardError {',
          '  constructor(message: string) {',
          '    super(message);',
          '    this.name = new.target.name;',
          '  }',
          '}',
        ),
      ),
    ).toEqual([
      "seeded.ts:4: class QueueError declares name 'PublishError', not 'QueueError'",
      "seeded.ts:7: class ConfigError does not declare its name (add: override readonly name = 'ConfigError';)",
    ]);
  });

  it('ignores classes that are not errors', () => {
    expect(
      findErrorClasses(source('export class Pool extends Map<string, number> {}', 'class Clock {}')),
    ).toEqual([]);
  });
});
