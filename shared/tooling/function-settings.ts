import { readFileSync } from 'node:fs';
import { parseTemplate } from './cfn-yaml.ts';

/** What template.yaml says about one function, as Lambda would apply it. */
export interface FunctionSettings {
  /** Logical id of the AWS::Serverless::Function. */
  readonly logicalId: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** Environment variables whose value the template alone decides (strings, parameter defaults). */
  readonly environment: Readonly<Record<string, string>>;
  /** Variables set from resources of the stack (a bus name, a queue URL): known only once deployed. */
  readonly fromStack: readonly string[];
}

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the settings of the function whose Handler is `functions/<name>/handler.handler`.
 * @returns undefined when the template declares no such function.
 */
export function functionSettings(templatePath: string, name: string): FunctionSettings | undefined {
  const template = parseTemplate(readFileSync(templatePath, 'utf8'));
  const resources = isNode(template.Resources) ? template.Resources : {};
  const globals =
    isNode(template.Globals) && isNode(template.Globals.Function) ? template.Globals.Function : {};
  const parameters = isNode(template.Parameters) ? template.Parameters : {};
  const found = Object.entries(resources).find(
    ([, resource]) =>
      isNode(resource) &&
      resource.Type === 'AWS::Serverless::Function' &&
      isNode(resource.Properties) &&
      resource.Properties.Handler === `functions/${name}/handler.handler`,
  );
  if (found === undefined) return undefined;
  const [logicalId, resource] = found as [string, Node];
  const properties = resource.Properties as Node;
  const variables = {
    ...variablesOf(globals),
    ...variablesOf(properties),
  };
  const environment: Record<string, string> = {};
  const fromStack: string[] = [];
  for (const [key, value] of Object.entries(variables)) {
    const resolved = resolve(value, parameters);
    if (resolved === undefined) fromStack.push(key);
    else environment[key] = resolved;
  }
  return {
    logicalId,
    timeoutSeconds: Number(properties.Timeout ?? globals.Timeout ?? 3),
    memorySizeMb: Number(properties.MemorySize ?? globals.MemorySize ?? 128),
    environment,
    fromStack,
  };
}

function variablesOf(properties: Node): Node {
  const environment = properties.Environment;
  return isNode(environment) && isNode(environment.Variables) ? environment.Variables : {};
}

/** A literal, or a `Ref` to a parameter with a default; anything else depends on the deployed stack. */
function resolve(value: unknown, parameters: Node): string | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (isNode(value) && typeof value.Ref === 'string') {
    const parameter = parameters[value.Ref];
    if (isNode(parameter) && parameter.Default !== undefined) return String(parameter.Default);
  }
  return undefined;
}
