import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

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
    resolve: (value: string) => ({ [name]: name === 'Fn::GetAtt' ? value.split('.') : value }),
  },
  { tag, collection: 'seq' as const, resolve: (node: { toJSON(): unknown }) => ({ [name]: node.toJSON() }) },
  { tag, collection: 'map' as const, resolve: (node: { toJSON(): unknown }) => ({ [name]: node.toJSON() }) },
]);

/** Parses a CloudFormation/SAM YAML template, turning `!Ref x` into `{ Ref: 'x' }` and so on. */
export function parseTemplate(text: string): Record<string, unknown> {
  return parse(text, { customTags, uniqueKeys: true }) as Record<string, unknown>;
}

/** Reads and parses a template file. */
export function readTemplate(path: string): Record<string, unknown> {
  return parseTemplate(readFileSync(path, 'utf8'));
}
