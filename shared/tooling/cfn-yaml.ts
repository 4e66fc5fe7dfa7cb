import { readFileSync } from 'node:fs';
import { parse, parseDocument, type Tags } from 'yaml';

// CloudFormation's short-form intrinsic functions, each as scalar, sequence and mapping.
const INTRINSICS: Readonly<Record<string, string>> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Sub': 'Fn::Sub',
  '!GetAtt': 'Fn::GetAtt',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!FindInMap': 'Fn::FindInMap',
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!ImportValue': 'Fn::ImportValue',
  '!GetAZs': 'Fn::GetAZs',
  '!Transform': 'Fn::Transform',
};

const customTags: Tags = Object.entries(INTRINSICS).flatMap(([tag, name]) => [
  {
    tag,
    resolve: (value: string) => ({ [name]: name === 'Fn::GetAtt' ? splitGetAtt(value) : value }),
  },
  { tag, collection: 'seq' as const, resolve: (node: { toJSON(): unknown }) => ({ [name]: node.toJSON() }) },
  { tag, collection: 'map' as const, resolve: (node: { toJSON(): unknown }) => ({ [name]: node.toJSON() }) },
]);

// `!GetAtt Stack.Outputs.Name` is the attribute `Outputs.Name` of `Stack`: split at the first dot only.
function splitGetAtt(value: string): string[] {
  const dot = value.indexOf('.');
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

/** Parses a CloudFormation/SAM YAML template, turning `!Ref x` into `{ Ref: 'x' }` and so on. */
export function parseTemplate(text: string): Record<string, unknown> {
  return parse(text, { customTags, uniqueKeys: true }) as Record<string, unknown>;
}

/** Reads and parses a template file. */
export function readTemplate(path: string): Record<string, unknown> {
  return parseTemplate(readFileSync(path, 'utf8'));
}

/**
 * Parses a template as CloudFormation would accept it: YAML errors, duplicate keys and unknown tags
 * (a misspelt `!Reff`) are problems, one line each with its position.
 */
export function parseTemplateStrictly(text: string): {
  template: Record<string, unknown> | undefined;
  problems: string[];
} {
  const document = parseDocument(text, { customTags, uniqueKeys: true, prettyErrors: true });
  // Pretty messages end their first line with the position ("... at line 3, column 4:").
  const problems = [...document.errors, ...document.warnings].map((issue) =>
    (issue.message.split('\n')[0] ?? '').replace(/:$/, ''),
  );
  if (problems.length > 0) return { template: undefined, problems };
  const template = document.toJS() as unknown;
  if (typeof template !== 'object' || template === null || Array.isArray(template))
    return { template: undefined, problems: ['the template is not a YAML mapping'] };
  return { template: template as Record<string, unknown>, problems: [] };
}
