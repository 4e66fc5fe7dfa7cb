/**
 * Rule: every resource type and property exists — CloudFormation types in the CloudFormation resource
 * specification (`@aws-cdk/aws-service-spec`, read offline), serverless types and `Globals` in the SAM
 * schema (test/fixtures/schemas/sam).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import AjvDraft04 from 'ajv-draft-04';
import { intrinsic, isNode, type Node, place, type TemplateContext } from './model.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
export const SAM_SCHEMA_DIR = resolve(ROOT, 'test/fixtures/schemas/sam');

const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'Metadata',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'CreationPolicy',
  'UpdatePolicy',
]);
const TEMPLATE_SECTIONS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Globals',
]);

let spec: SpecDatabase | undefined;
/** The CloudFormation resource specification (loaded once, ~0.3 s). */
export function cloudFormationSpec(): SpecDatabase {
  spec ??= loadAwsServiceSpecSync();
  return spec;
}

/** The resource of the specification for a CloudFormation type, if it exists. */
export function specResource(type: string): Resource | undefined {
  const found = cloudFormationSpec().lookup('resource', 'cloudFormationType', 'equals', type);
  return found.length === 1 ? found.only() : undefined;
}

// ajv-draft-04 is CommonJS: its class is the module's `default` export.
const Ajv = AjvDraft04.default;
type Validator = ReturnType<InstanceType<typeof Ajv>['compile']>;
let samValidators: { byType: Map<string, Validator>; globals: Validator } | undefined;

/** One validator per serverless type, and one for `Globals`, from the SAM schema. */
function samSchema(): NonNullable<typeof samValidators> {
  if (samValidators !== undefined) return samValidators;
  const schema = JSON.parse(readFileSync(resolve(SAM_SCHEMA_DIR, 'sam.schema.json'), 'utf8')) as {
    definitions: Record<string, { properties?: { Type?: { enum?: string[] } } }>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(schema, 'sam');
  const byType = new Map<string, Validator>();
  for (const [name, definition] of Object.entries(schema.definitions)) {
    const [type] = definition.properties?.Type?.enum ?? [];
    if (name.endsWith('__Resource') && type?.startsWith('AWS::Serverless::'))
      byType.set(type, ajv.getSchema(`sam#/definitions/${name}`) as Validator);
  }
  samValidators = { byType, globals: ajv.getSchema('sam#/definitions/__main____Globals') as Validator };
  return samValidators;
}

/** Problems of the resource types and properties; empty when every one exists. */
export function resourceProblems(context: TemplateContext): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(context.template))
    if (!TEMPLATE_SECTIONS.has(key)) problems.push(`${key}: not a section of a SAM template`);
  if (context.template.Globals !== undefined)
    problems.push(...samProblems(samSchema().globals, context.template.Globals, ['Globals']));
  for (const [logicalId, resource] of Object.entries(context.resources)) {
    const type = resource.Type;
    const at = ['Resources', logicalId];
    if (typeof type !== 'string') {
      problems.push(`${place(at)}: Type is missing or not a string`);
      continue;
    }
    if (type.startsWith('AWS::Serverless::')) {
      const validate = samSchema().byType.get(type);
      if (validate === undefined)
        problems.push(`${place(at)}: unknown resource type ${type} (not in the SAM schema)`);
      else problems.push(...samProblems(validate, resource, at));
      continue;
    }
    for (const attribute of Object.keys(resource))
      if (!RESOURCE_ATTRIBUTES.has(attribute))
        problems.push(`${place([...at, attribute])}: not a resource attribute`);
    // Custom resources take any properties.
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') continue;
    const definition = specResource(type);
    if (definition === undefined) {
      problems.push(
        `${place(at)}: unknown resource type ${type} (not in the CloudFormation resource specification)`,
      );
      continue;
    }
    const properties = resource.Properties ?? {};
    if (!isNode(properties)) {
      if (intrinsic(properties) === undefined)
        problems.push(`${place([...at, 'Properties'])}: not a mapping`);
      continue;
    }
    problems.push(...propertiesProblems(definition.properties, properties, [...at, 'Properties'], type));
  }
  return problems;
}

function samProblems(validate: Validator, value: unknown, at: readonly string[]): string[] {
  if (validate(value)) return [];
  // anyOf branches repeat themselves; the deepest, distinct messages say what is wrong.
  const errors = validate.errors ?? [];
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((key) => (/^\d+$/.test(key) ? Number(key) : key));
    const detail =
      error.keyword === 'additionalProperties'
        ? `unknown property ${String((error.params as { additionalProperty?: string }).additionalProperty)}`
        : (error.message ?? error.keyword);
    const line = `${place([...at, ...path])}: ${detail} (SAM schema)`;
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines.length > 0 ? lines : [`${place(at)}: does not match the SAM schema`];
}

function propertiesProblems(
  expected: Readonly<Record<string, { type: PropertyType; required?: boolean }>>,
  actual: Node,
  at: readonly (string | number)[],
  owner: string,
): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(actual)) {
    const property = expected[name];
    if (property === undefined) problems.push(`${place([...at, name])}: unknown property of ${owner}`);
    else problems.push(...valueProblems(property.type, value, [...at, name], owner));
  }
  for (const [name, property] of Object.entries(expected))
    if (property.required === true && !(name in actual))
      problems.push(`${place(at)}: required property ${name} of ${owner} is missing`);
  return problems;
}

function valueProblems(
  type: PropertyType,
  value: unknown,
  at: readonly (string | number)[],
  owner: string,
): string[] {
  // An intrinsic function's result is known only once deployed.
  if (intrinsic(value) !== undefined) return [];
  switch (type.type) {
    case 'json':
    case 'null':
      return [];
    case 'string':
    case 'date-time':
      return isScalar(value) ? [] : [`${place(at)}: expected a string`];
    case 'number':
    case 'integer':
      return typeof value === 'number' ||
        (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        ? []
        : [`${place(at)}: expected a number`];
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? []
        : [`${place(at)}: expected a boolean`];
    case 'tag':
      return isNode(value) ? [] : [`${place(at)}: expected a tag (Key, Value)`];
    case 'array':
      if (!Array.isArray(value)) return [`${place(at)}: expected a list`];
      return value.flatMap((item, index) => valueProblems(type.element, item, [...at, index], owner));
    case 'map':
      if (!isNode(value)) return [`${place(at)}: expected a mapping`];
      return Object.entries(value).flatMap(([key, item]) =>
        valueProblems(type.element, item, [...at, key], owner),
      );
    case 'ref': {
      if (!isNode(value)) return [`${place(at)}: expected a mapping`];
      const definition = cloudFormationSpec().get('typeDefinition', type.reference.$ref) as TypeDefinition;
      return propertiesProblems(definition.properties, value, at, `${owner}.${definition.name}`);
    }
    case 'union': {
      // Valid when it fits any member; otherwise report the member that fits best.
      const candidates = type.types.map((member) => valueProblems(member, value, at, owner));
      if (candidates.some((problems) => problems.length === 0)) return [];
      return candidates.reduce((best, problems) => (problems.length < best.length ? problems : best));
    }
    default:
      return [];
  }
}

const isScalar = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);
