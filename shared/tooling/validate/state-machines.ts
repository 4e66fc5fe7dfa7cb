/**
 * Rule: every state machine definition is valid Amazon States Language — the inline `Definition`, the
 * ASL file a `DefinitionUri` names in the repository, or a `DefinitionString` — checked by
 * asl-validator; every state it refers to (StartAt, Next, Default, Choices[].Next, Catch[].Next) exists
 * in its own scope (a Map's ItemProcessor and a Parallel branch are scopes of their own); and every
 * `${Name}` in it is provided by `DefinitionSubstitutions`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import aslValidator from 'asl-validator';
import { parse } from 'yaml';
import {
  dotted,
  intrinsic,
  isNode,
  type Node,
  place,
  SAM_TYPE_TRANSFORMS,
  type TemplateContext,
  walk,
} from './model.ts';
import { specResource } from './resources.ts';

const STATE_MACHINE_TYPES = new Set(['AWS::Serverless::StateMachine', 'AWS::StepFunctions::StateMachine']);
// Stand-ins for what a deployed stack resolves, so that ARN-shaped fields can be checked.
const SAMPLE = { partition: 'aws', region: 'us-east-1', account: '123456789012', stack: 'crawlguard' };

type Path = readonly (string | number)[];

/** Problems of the state machines; empty when every definition is valid. */
export function stateMachineProblems(context: TemplateContext): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(context.resources)) {
    if (!STATE_MACHINE_TYPES.has(String(resource.Type))) continue;
    const properties = isNode(resource.Properties) ? resource.Properties : {};
    const at = ['Resources', logicalId, 'Properties'];
    const loaded = loadDefinition(context, properties, at);
    if ('problem' in loaded) {
      problems.push(loaded.problem);
      continue;
    }
    const { definition, where, substitutions } = loaded;
    // Every ${Name} must be provided; the provided values stand in for them in the checks below.
    walk(definition, [], (node, path) => {
      if (typeof node !== 'string') return;
      for (const match of node.matchAll(/\$\{([^}]*)\}/g)) {
        const name = match[1] ?? '';
        if (!(name in substitutions))
          problems.push(`${where} ${dotted(path)}: \${${name}} is not provided by DefinitionSubstitutions`);
      }
    });
    const resolved = substitute(definition, (name) => {
      const value = substitutions[name];
      return value === undefined ? `${name}` : sampleValue(context, value);
    });
    problems.push(...aslProblems(resolved, where), ...stateReferenceProblems(resolved, where));
  }
  return problems;
}

type Loaded =
  | { definition: unknown; where: string; substitutions: Readonly<Record<string, unknown>> }
  | { problem: string };

/** The definition of a state machine and where it comes from (an ASL file, or the template). */
function loadDefinition(context: TemplateContext, properties: Node, at: Path): Loaded {
  const substitutions = isNode(properties.DefinitionSubstitutions) ? properties.DefinitionSubstitutions : {};
  const inline = properties.Definition;
  if (inline !== undefined) return { definition: inline, where: place([...at, 'Definition']), substitutions };
  const uri = properties.DefinitionUri;
  if (uri !== undefined) {
    if (typeof uri !== 'string' || uri.startsWith('s3://'))
      return {
        problem: `${place([...at, 'DefinitionUri'])}: not a file of the repository; validate cannot read it offline`,
      };
    const file = resolve(context.baseDir, uri);
    const shown = relative(context.baseDir, file);
    if (shown.startsWith('..') || !existsSync(file))
      return { problem: `${place([...at, 'DefinitionUri'])}: ${uri}: no such file in the repository` };
    const text = readFileSync(file, 'utf8');
    try {
      const definition = file.endsWith('.json') ? (JSON.parse(text) as unknown) : (parse(text) as unknown);
      return { definition, where: shown, substitutions };
    } catch (error) {
      return {
        problem: `${shown}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
      };
    }
  }
  const text = properties.DefinitionString;
  if (text !== undefined) {
    // A Fn::Sub string: its own variables stand in as substitutions do.
    const call = intrinsic(text);
    const [body, variables] =
      call?.[0] === 'Fn::Sub' ? (Array.isArray(call[1]) ? call[1] : [call[1], {}]) : [text, {}];
    if (typeof body !== 'string')
      return {
        problem: `${place([...at, 'DefinitionString'])}: built by ${call?.[0] ?? 'a function'}; validate cannot read it`,
      };
    const subs: Record<string, unknown> = { ...(isNode(variables) ? variables : {}) };
    for (const match of body.matchAll(/\$\{([^}!][^}]*)\}/g)) subs[match[1] as string] ??= { Ref: match[1] };
    try {
      return {
        definition: JSON.parse(body) as unknown,
        where: place([...at, 'DefinitionString']),
        substitutions: subs,
      };
    } catch (error) {
      return {
        problem: `${place([...at, 'DefinitionString'])}: not valid JSON: ${(error as Error).message}`,
      };
    }
  }
  return { problem: `${place(at)}: no Definition, DefinitionUri or DefinitionString` };
}

/** asl-validator's verdict, without its unlocated missing-target messages (ours name the state). */
function aslProblems(definition: unknown, where: string): string[] {
  if (!isNode(definition)) return [`${where}: the definition is not a JSON object`];
  const { errors } = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
  return errors
    .filter((error) => !error.Message.startsWith("Missing 'StartAt'|'Next'|'Default' target"))
    .map((error) => {
      const path = error.schemaError?.instancePath.split('/').slice(1) ?? [];
      return `${where}${path.length > 0 ? ` ${dotted(path)}` : ''}: ${error.Message} (asl-validator ${error['Error code']})`;
    });
}

/** Every StartAt/Next/Default/Choices[].Next/Catch[].Next names a state of its own scope. */
export function stateReferenceProblems(definition: unknown, where: string): string[] {
  const problems: string[] = [];
  const scope = (machine: unknown, at: Path): void => {
    if (!isNode(machine) || !isNode(machine.States)) return;
    const states = machine.States;
    const target = (name: unknown, path: Path, what: string) => {
      if (typeof name === 'string' && !(name in states))
        problems.push(
          `${where} ${dotted(path)}: ${what} "${name}": no such state${at.length > 0 ? ' in this scope' : ''}`,
        );
    };
    target(machine.StartAt, [...at, 'StartAt'], 'StartAt');
    for (const [stateName, state] of Object.entries(states)) {
      if (!isNode(state)) continue;
      const here = [...at, 'States', stateName];
      target(state.Next, [...here, 'Next'], 'Next');
      target(state.Default, [...here, 'Default'], 'Default');
      (Array.isArray(state.Choices) ? state.Choices : []).forEach((choice, index) => {
        if (isNode(choice)) target(choice.Next, [...here, 'Choices', index, 'Next'], 'Next');
      });
      (Array.isArray(state.Catch) ? state.Catch : []).forEach((catcher, index) => {
        if (isNode(catcher)) target(catcher.Next, [...here, 'Catch', index, 'Next'], 'Catch Next');
      });
      if (state.Type === 'Map') {
        const processor = state.ItemProcessor === undefined ? 'Iterator' : 'ItemProcessor';
        scope(state[processor], [...here, processor]);
      }
      if (state.Type === 'Parallel' && Array.isArray(state.Branches))
        for (const [index, branch] of state.Branches.entries()) scope(branch, [...here, 'Branches', index]);
    }
  };
  scope(definition, []);
  return problems;
}

/** A copy of `value` with every `${Name}` in its strings replaced by `replacement(Name)`. */
function substitute(value: unknown, replacement: (name: string) => string): unknown {
  if (typeof value === 'string')
    return value.replace(/\$\{([^}]*)\}/g, (_, name: string) => replacement(name));
  if (Array.isArray(value)) return value.map((item) => substitute(item, replacement));
  if (isNode(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, replacement)]));
  return value;
}

/** What a substitution looks like once deployed: a name, a URL or an ARN shaped as its type returns it. */
function sampleValue(context: TemplateContext, value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const call = intrinsic(value);
  if (call === undefined) return 'value';
  const [name, argument] = call;
  if (name === 'Ref' && typeof argument === 'string') {
    if (argument === 'AWS::Region') return SAMPLE.region;
    if (argument === 'AWS::AccountId') return SAMPLE.account;
    if (argument === 'AWS::Partition') return SAMPLE.partition;
    if (argument.startsWith('AWS::')) return SAMPLE.stack;
    const parameter = context.parameters[argument];
    if (isNode(parameter)) return String(parameter.Default ?? argument);
    const type = context.deployedTypes.get(argument);
    const identifier =
      (type === undefined
        ? undefined
        : (specResource(type)?.cfnRefIdentifier ?? specResource(type)?.primaryIdentifier)
      )?.join('|') ?? '';
    if (/Arn$/.test(identifier)) return sampleArn(type, argument);
    if (/Url$/.test(identifier)) return `https://${argument.toLowerCase()}.example.com/`;
    return `${SAMPLE.stack}-${argument}`;
  }
  if (name === 'Fn::GetAtt') {
    const [logicalId, attribute] =
      typeof argument === 'string' ? argument.split('.') : (argument as string[]);
    return attribute === 'Arn'
      ? sampleArn(context.deployedTypes.get(String(logicalId)), String(logicalId))
      : `${SAMPLE.stack}-${logicalId}`;
  }
  if (name === 'Fn::Sub') {
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    return String(text).replace(/\$\{([^}]*)\}/g, (_, variable: string) => {
      const local = isNode(variables) ? variables[variable] : undefined;
      if (local !== undefined) return sampleValue(context, local);
      const dot = variable.indexOf('.');
      return dot > 0
        ? sampleValue(context, { 'Fn::GetAtt': [variable.slice(0, dot), variable.slice(dot + 1)] })
        : sampleValue(context, { Ref: variable });
    });
  }
  return 'value';
}

function sampleArn(type: string | undefined, logicalId: string): string {
  const cfnType = type === undefined ? undefined : (SAM_TYPE_TRANSFORMS[type] ?? type);
  const template = cfnType === undefined ? undefined : specResource(cfnType)?.arnTemplate;
  if (template === undefined)
    return `arn:aws:${(cfnType ?? 'AWS::Unknown::X').split('::')[1]?.toLowerCase()}:${SAMPLE.region}:${SAMPLE.account}:${logicalId}`;
  return template.replace(/\$\{(\w+)\}/g, (_, variable: string) =>
    variable === 'Partition'
      ? SAMPLE.partition
      : variable === 'Region'
        ? SAMPLE.region
        : variable === 'Account'
          ? SAMPLE.account
          : `${SAMPLE.stack}-${logicalId}`,
  );
}
