/**
 * Error classes must name themselves: the bundles are minified, which renames classes, and errors are
 * matched by `name` (Step Functions Retry/Catch, the adapters, logs). This finds every class that
 * extends `Error` (directly or through another error class, e.g. `CrawlguardError`) and checks that it
 * declares `name` as a string literal equal to its class name — `override readonly name = 'X'` or
 * `this.name = 'X'`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A source file: its path (for messages) and text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** An error class found in the sources. */
export interface ErrorClass {
  readonly name: string;
  readonly parent: string;
  readonly path: string;
  readonly line: number;
  readonly exported: boolean;
  /** The literal `name` it declares, if any. */
  readonly declaredName: string | undefined;
}

// Built-in error constructors a class may extend.
const BUILT_IN_ERRORS = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
]);
const CLASS_DECLARATION =
  /^[ \t]*(export\s+(?:default\s+)?)?(?:abstract\s+)?class\s+(\w+)\s+extends\s+([\w$.]+)/gm;
const NAME_FIELD =
  /(?:^|[\s;{])(?:(?:override|readonly|public)\s+)*name\s*(?::\s*string\s*)?=\s*(['"])([^'"\n]*)\1/;
const NAME_ASSIGNMENT = /\bthis\.name\s*=\s*(['"])([^'"\n]*)\1/;

/** Every class of `files` that is an error class, with the name it declares. */
export function findErrorClasses(files: readonly SourceFile[]): ErrorClass[] {
  const classes: Array<Omit<ErrorClass, 'declaredName'> & { body: string }> = [];
  for (const file of files) {
    for (const match of file.text.matchAll(CLASS_DECLARATION)) {
      const open = file.text.indexOf('{', match.index + match[0].length);
      classes.push({
        name: match[2] as string,
        parent: (match[3] as string).split('.').at(-1) as string,
        path: file.path,
        line: file.text.slice(0, match.index).split('\n').length,
        exported: match[1] !== undefined,
        body: open < 0 ? '' : classBody(file.text, open),
      });
    }
  }
  const parents = new Map(classes.map((c) => [c.name, c.parent]));
  const isError = (name: string, seen = new Set<string>()): boolean => {
    if (BUILT_IN_ERRORS.has(name)) return true;
    const parent = parents.get(name);
    if (parent === undefined || seen.has(name)) return false;
    seen.add(name);
    return isError(parent, seen);
  };
  return classes
    .filter((c) => isError(c.parent))
    .map(({ body, ...c }) => ({
      ...c,
      declaredName: (NAME_FIELD.exec(stripNested(body)) ?? NAME_ASSIGNMENT.exec(body))?.[2],
    }));
}

/** One line per error class that does not declare `name` equal to its class name. */
export function errorNameProblems(files: readonly SourceFile[]): string[] {
  return findErrorClasses(files)
    .filter((c) => c.declaredName !== c.name)
    .map((c) =>
      c.declaredName === undefined
        ? `${c.path}:${c.line}: class ${c.name} does not declare its name (add: override readonly name = '${c.name}';)`
        : `${c.path}:${c.line}: class ${c.name} declares name '${c.declaredName}', not '${c.name}'`,
    );
}

/** The .ts files under `dirs` of `root` (node_modules excluded), paths relative to `root`. */
export function typeScriptSources(root: string, dirs: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
        files.push({ path: relative(root, path), text: readFileSync(path, 'utf8') });
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The text between the brace at `open` and its match, skipping strings and comments. */
function classBody(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') i = endOf(text, '\n', i);
    else if (c === '/' && text[i + 1] === '*') i = endOf(text, '*/', i) + 1;
    else if (c === "'" || c === '"' || c === '`') i = closingQuote(text, i);
    else if (c === '{') depth += 1;
    else if (c === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(open + 1, i);
    }
  }
  return text.slice(open + 1);
}

function endOf(text: string, token: string, from: number): number {
  const at = text.indexOf(token, from + 2);
  return at < 0 ? text.length : at;
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === text[open]) return i;
  }
  return text.length;
}

/** The class body with nested blocks (methods, constructors) blanked, so that fields stand alone. */
function stripNested(body: string): string {
  let depth = 0;
  let out = '';
  for (const c of body) {
    if (c === '{') depth += 1;
    if (depth === 0) out += c;
    if (c === '}') depth -= 1;
  }
  return out;
}
