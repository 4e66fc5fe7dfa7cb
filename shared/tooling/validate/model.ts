/**
 * The parsed template as the rules of `npm run validate` see it: its sections, the resources SAM
 * generates from its serverless resources, and helpers to walk values and name places in it.
 */

/** A JSON-like node of the parsed template. */
export type Node = Record<string, unknown>;

export const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a rule checks: the parsed template and where its relative paths start. */
export interface TemplateContext {
  readonly templatePath: string;
  /** The folder the template's relative paths (CodeUri, DefinitionUri, entry points) start from. */
  readonly baseDir: string;
  readonly text: string;
  readonly template: Node;
  readonly parameters: Node;
  readonly resources: Readonly<Record<string, Node>>;
  /** Every resource the deployed stack holds, SAM's generated ones included, with its type. */
  readonly deployedTypes: ReadonlyMap<string, string>;
}

export const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** The CloudFormation type SAM turns each serverless type into (same logical id). */
export const SAM_TYPE_TRANSFORMS: Readonly<Record<string, string>> = {
  'AWS::Serverless::Function': 'AWS::Lambda::Function',
  'AWS::Serverless::StateMachine': 'AWS::StepFunctions::StateMachine',
  'AWS::Serverless::SimpleTable': 'AWS::DynamoDB::Table',
  'AWS::Serverless::Api': 'AWS::ApiGateway::RestApi',
  'AWS::Serverless::HttpApi': 'AWS::ApiGatewayV2::Api',
  'AWS::Serverless::WebSocketApi': 'AWS::ApiGatewayV2::Api',
  'AWS::Serverless::LayerVersion': 'AWS::Lambda::LayerVersion',
  'AWS::Serverless::Application': 'AWS::CloudFormation::Stack',
  'AWS::Serverless::GraphQLApi': 'AWS::AppSync::GraphQLApi',
  'AWS::Serverless::CapacityProvider': 'AWS::Lambda::CapacityProvider',
};

// Event sources SAM turns into an event source mapping, a rule with a permission, and so on.
const MAPPING_EVENTS = new Set(['SQS', 'Kinesis', 'DynamoDB', 'MQ', 'MSK', 'SelfManagedKafka', 'DocumentDB']);
const RULE_EVENTS = new Set(['Schedule', 'CloudWatchEvent', 'EventBridgeRule']);

/**
 * Logical ids and types of the resources SAM generates for a serverless resource (its documented
 * "generated AWS CloudFormation resources" that a template may refer to).
 */
export function generatedResources(logicalId: string, resource: Node): Array<[string, string]> {
  const type = String(resource.Type);
  const properties = isNode(resource.Properties) ? resource.Properties : {};
  const transformed = SAM_TYPE_TRANSFORMS[type];
  const generated: Array<[string, string]> = transformed === undefined ? [] : [[logicalId, transformed]];
  const isFunction = type === 'AWS::Serverless::Function';
  if (!isFunction && type !== 'AWS::Serverless::StateMachine') return generated;
  if (properties.Role === undefined) generated.push([`${logicalId}Role`, 'AWS::IAM::Role']);
  if (isFunction && properties.FunctionUrlConfig !== undefined)
    generated.push([`${logicalId}Url`, 'AWS::Lambda::Url']);
  for (const [eventId, event] of Object.entries(isNode(properties.Events) ? properties.Events : {})) {
    if (!isNode(event)) continue;
    const id = `${logicalId}${eventId}`;
    const eventType = String(event.Type);
    const eventProperties = isNode(event.Properties) ? event.Properties : {};
    if (MAPPING_EVENTS.has(eventType) && isFunction) generated.push([id, 'AWS::Lambda::EventSourceMapping']);
    if (RULE_EVENTS.has(eventType)) {
      generated.push([id, 'AWS::Events::Rule']);
      generated.push(
        isFunction ? [`${id}Permission`, 'AWS::Lambda::Permission'] : [`${id}Role`, 'AWS::IAM::Role'],
      );
    }
    if (eventType === 'ScheduleV2') {
      generated.push([id, 'AWS::Scheduler::Schedule']);
      if (eventProperties.RoleArn === undefined) generated.push([`${id}Role`, 'AWS::IAM::Role']);
    }
    if (eventType === 'SNS' && isFunction) {
      generated.push([id, 'AWS::SNS::Subscription']);
      generated.push([`${id}Permission`, 'AWS::Lambda::Permission']);
    }
    const deadLetter = eventProperties.DeadLetterConfig;
    if (isNode(deadLetter) && deadLetter.Type === 'SQS') {
      const queueId =
        typeof deadLetter.QueueLogicalId === 'string' ? deadLetter.QueueLogicalId : `${id}Queue`;
      generated.push([queueId, 'AWS::SQS::Queue']);
      generated.push([`${queueId}Policy`, 'AWS::SQS::QueuePolicy']);
    }
  }
  return generated;
}

/** Builds the context of a parsed template. */
export function templateContext(
  templatePath: string,
  baseDir: string,
  text: string,
  template: Node,
): TemplateContext {
  const resources = Object.fromEntries(
    Object.entries(isNode(template.Resources) ? template.Resources : {}).filter(
      (entry): entry is [string, Node] => isNode(entry[1]),
    ),
  );
  const deployedTypes = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    deployedTypes.set(logicalId, String(resource.Type));
    for (const [id, type] of generatedResources(logicalId, resource))
      if (!(id in resources)) deployedTypes.set(id, type);
  }
  // A serverless resource is deployed as its transformed type under the same logical id.
  for (const [logicalId, resource] of Object.entries(resources)) {
    const transformed = SAM_TYPE_TRANSFORMS[String(resource.Type)];
    if (transformed !== undefined) deployedTypes.set(logicalId, transformed);
  }
  return {
    templatePath,
    baseDir,
    text,
    template,
    parameters: isNode(template.Parameters) ? template.Parameters : {},
    resources,
    deployedTypes,
  };
}

/** A place in the template, e.g. `FleetScanFunction Properties.Policies[0].Statement[1].Action`. */
export function place(path: readonly (string | number)[]): string {
  const [section, name, ...rest] = path;
  if (section === 'Resources' && name !== undefined)
    return rest.length === 0 ? String(name) : `${name} ${dotted(rest)}`;
  return dotted(path);
}

/** `a.b[0].c` for the keys a, b, 0, c. */
export function dotted(path: readonly (string | number)[]): string {
  return path
    .map((key, index) =>
      typeof key === 'number' || /^\d+$/.test(key) ? `[${key}]` : index === 0 ? key : `.${key}`,
    )
    .join('');
}

/** Calls `visit` for every node and array under `value`, depth first, with its path. */
export function walk(
  value: unknown,
  path: readonly (string | number)[],
  visit: (node: unknown, path: readonly (string | number)[]) => void,
): void {
  visit(value, path);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, [...path, index], visit);
  } else if (isNode(value))
    for (const [key, child] of Object.entries(value)) walk(child, [...path, key], visit);
}

/** The `${...}` variables of a Fn::Sub string (`${!Literal}` is an escape, not a variable). */
export function subVariables(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)]
    .map((match) => (match[1] ?? '').trim())
    .filter((name) => !name.startsWith('!'));
}

/** The single intrinsic function of a node (`Ref`, `Fn::Sub`, ...), if it is one. */
export function intrinsic(value: unknown): [string, unknown] | undefined {
  if (!isNode(value)) return undefined;
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined) return undefined;
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::') ? [key, value[key]] : undefined;
}
