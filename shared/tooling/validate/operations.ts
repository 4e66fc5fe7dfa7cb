/**
 * The rules on operating the stack:
 * - async-failures: every asynchronous invocation keeps what fails. A function invoked asynchronously
 *   (a schedule, an EventBridge rule, SNS, S3, ...) has an on-failure destination
 *   (`EventInvokeConfig.DestinationConfig.OnFailure`) or a `DeadLetterQueue`; every schedule and rule
 *   target (SAM events of functions and state machines, AWS::Events::Rule, AWS::Scheduler::Schedule) has
 *   a `DeadLetterConfig` for what it cannot deliver.
 * - log-retention: every function and state machine logs into a log group of the template, and every log
 *   group of the template has a `RetentionInDays` (a group Lambda creates by itself never expires).
 * - dead-letter-alarms: every queue that receives dead letters (a redrive target, a rule's or schedule's
 *   dead-letter queue, a function's on-failure destination or dead-letter queue) has a CloudWatch alarm
 *   with actions on its `ApproximateNumberOfMessagesVisible` or `ApproximateAgeOfOldestMessage`.
 */
import { intrinsic, isNode, type Node, place, type TemplateContext } from './model.ts';

// Event sources that invoke a function asynchronously (Lambda retries, then drops, unless told otherwise).
const ASYNC_EVENTS = new Set([
  'Schedule',
  'ScheduleV2',
  'EventBridgeRule',
  'CloudWatchEvent',
  'SNS',
  'S3',
  'CloudWatchLogs',
  'IoTRule',
  'AlexaSkill',
  'Cognito',
]);
// Event sources with a delivery step of their own, before the invocation: they take a DeadLetterConfig.
const DELIVERING_EVENTS = new Set(['Schedule', 'ScheduleV2', 'EventBridgeRule', 'CloudWatchEvent']);
// SQS metrics that see dead letters (NumberOfMessagesSent does not count messages moved by a redrive).
const DEAD_LETTER_METRICS = new Set(['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']);

const FUNCTION = 'AWS::Serverless::Function';
const STATE_MACHINES = new Set(['AWS::Serverless::StateMachine', 'AWS::StepFunctions::StateMachine']);

const propertiesOf = (resource: Node): Node => (isNode(resource.Properties) ? resource.Properties : {});
const eventsOf = (properties: Node): Array<[string, Node]> =>
  Object.entries(isNode(properties.Events) ? properties.Events : {}).filter((e): e is [string, Node] =>
    isNode(e[1]),
  );
/** The globals of serverless functions (what a function does not set itself). */
const functionGlobals = (context: TemplateContext): Node => {
  const globals = context.template.Globals;
  return isNode(globals) && isNode(globals.Function) ? globals.Function : {};
};

/** The logical id a `Ref X`, `!GetAtt X.attribute` (with that attribute, when given) names. */
function target(value: unknown, attribute?: string): string | undefined {
  const call = intrinsic(value);
  if (call?.[0] === 'Ref' && typeof call[1] === 'string' && attribute === undefined) return call[1];
  if (call?.[0] === 'Fn::GetAtt') {
    const [id, name] = typeof call[1] === 'string' ? call[1].split('.') : (call[1] as unknown[]);
    if (typeof id === 'string' && (attribute === undefined || name === attribute)) return id;
  }
  return undefined;
}

// --- async-failures ------------------------------------------------------------------------------

/** Asynchronous invocations and deliveries that would drop what fails; one line each. */
export function asyncFailureProblems(context: TemplateContext): string[] {
  const problems: string[] = [];
  const globals = functionGlobals(context);
  for (const [logicalId, resource] of Object.entries(context.resources)) {
    const type = String(resource.Type);
    const properties = propertiesOf(resource);
    if (type === FUNCTION || STATE_MACHINES.has(type)) {
      for (const [eventId, event] of eventsOf(properties)) {
        const eventType = String(event.Type);
        const eventProperties = isNode(event.Properties) ? event.Properties : {};
        if (DELIVERING_EVENTS.has(eventType) && !isNode(eventProperties.DeadLetterConfig))
          problems.push(
            `${place(['Resources', logicalId, 'Properties', 'Events', eventId])}: a ${eventType} event without a DeadLetterConfig (what it cannot deliver is dropped)`,
          );
      }
    }
    if (type === FUNCTION) {
      const asyncEvents = eventsOf(properties).filter(([, event]) => ASYNC_EVENTS.has(String(event.Type)));
      if (asyncEvents.length > 0 && !keepsFailures(properties) && !keepsFailures(globals))
        problems.push(
          `${logicalId}: invoked asynchronously (${asyncEvents.map(([id, e]) => `${id}: ${String(e.Type)}`).join(', ')}) without EventInvokeConfig.DestinationConfig.OnFailure or a DeadLetterQueue (an invocation that fails after Lambda's retries is dropped)`,
        );
    }
    if (type === 'AWS::Events::Rule') {
      const targets = Array.isArray(properties.Targets) ? properties.Targets : [];
      targets.forEach((t, index) => {
        if (!isNode(t) || !(isNode(t.DeadLetterConfig) && t.DeadLetterConfig.Arn !== undefined))
          problems.push(
            `${place(['Resources', logicalId, 'Properties', 'Targets', index])}: a rule target without DeadLetterConfig.Arn (what the rule cannot deliver is dropped)`,
          );
      });
    }
    if (type === 'AWS::Scheduler::Schedule') {
      const t = properties.Target;
      if (!isNode(t) || !(isNode(t.DeadLetterConfig) && t.DeadLetterConfig.Arn !== undefined))
        problems.push(
          `${place(['Resources', logicalId, 'Properties', 'Target'])}: a schedule target without DeadLetterConfig.Arn (what the schedule cannot deliver is dropped)`,
        );
    }
  }
  return problems;
}

/** An on-failure destination or a dead-letter queue. */
function keepsFailures(properties: Node): boolean {
  const config = properties.EventInvokeConfig;
  const onFailure =
    isNode(config) && isNode(config.DestinationConfig) ? config.DestinationConfig.OnFailure : undefined;
  if (isNode(onFailure) && (onFailure.Destination !== undefined || onFailure.Type !== undefined)) return true;
  const deadLetter = properties.DeadLetterQueue;
  return isNode(deadLetter) && deadLetter.TargetArn !== undefined;
}

// --- log-retention -------------------------------------------------------------------------------

/** Functions and state machines without a log group of the template, log groups without a retention. */
export function logRetentionProblems(context: TemplateContext): string[] {
  const problems: string[] = [];
  const groups = new Map(
    Object.entries(context.resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup'),
  );
  for (const [logicalId, group] of groups)
    if (propertiesOf(group).RetentionInDays === undefined)
      problems.push(`${logicalId}: a log group without RetentionInDays (its logs are kept forever)`);
  const globals = functionGlobals(context);
  for (const [logicalId, resource] of Object.entries(context.resources)) {
    const type = String(resource.Type);
    const properties = propertiesOf(resource);
    if (type === FUNCTION || type === 'AWS::Lambda::Function') {
      const logging = properties.LoggingConfig ?? (type === FUNCTION ? globals.LoggingConfig : undefined);
      const named = isNode(logging) ? target(logging.LogGroup) : undefined;
      if (named !== undefined ? groups.has(named) : namedForFunction(groups, logicalId)) continue;
      problems.push(
        named !== undefined
          ? `${logicalId} Properties.LoggingConfig.LogGroup: ${named} is not an AWS::Logs::LogGroup of the template`
          : `${logicalId}: no log group of the template (LoggingConfig.LogGroup: !Ref a log group, or a log group named !Sub /aws/lambda/\${${logicalId}}); the one Lambda creates never expires`,
      );
    }
    if (STATE_MACHINES.has(type)) {
      const key = type === 'AWS::Serverless::StateMachine' ? 'Logging' : 'LoggingConfiguration';
      const logging = properties[key];
      const destinations = isNode(logging) && Array.isArray(logging.Destinations) ? logging.Destinations : [];
      const named = destinations.map((d) =>
        isNode(d) && isNode(d.CloudWatchLogsLogGroup)
          ? target(d.CloudWatchLogsLogGroup.LogGroupArn, 'Arn')
          : undefined,
      );
      const at = `${logicalId} Properties.${key}`;
      if (!isNode(logging) || logging.Level === undefined || logging.Level === 'OFF')
        problems.push(`${at}: the state machine does not log (set Level and a CloudWatch Logs destination)`);
      else if (!named.some((id) => id !== undefined && groups.has(id)))
        problems.push(
          `${at}.Destinations: no log group of the template (CloudWatchLogsLogGroup.LogGroupArn: !GetAtt <log group>.Arn)`,
        );
    }
  }
  return problems;
}

/** A log group named `/aws/lambda/<the function's name>`, the one Lambda would otherwise create. */
function namedForFunction(groups: ReadonlyMap<string, Node>, functionId: string): boolean {
  return [...groups.values()].some((group) => {
    const name = propertiesOf(group).LogGroupName;
    const call = intrinsic(name);
    if (call?.[0] === 'Fn::Sub') {
      const text = Array.isArray(call[1]) ? call[1][0] : call[1];
      return text === `/aws/lambda/\${${functionId}}`;
    }
    if (call?.[0] === 'Fn::Join' && Array.isArray(call[1])) {
      const [separator, parts] = call[1] as [unknown, unknown];
      return (
        separator === '' &&
        Array.isArray(parts) &&
        parts.length === 2 &&
        parts[0] === '/aws/lambda/' &&
        target(parts[1]) === functionId
      );
    }
    return false;
  });
}

// --- dead-letter-alarms --------------------------------------------------------------------------

/** Queues that receive dead letters without an alarm that tells someone. */
export function deadLetterAlarmProblems(context: TemplateContext): string[] {
  const deadLetters = deadLetterQueues(context);
  const alarmed = alarmedQueues(context);
  const problems: string[] = [];
  for (const [queue, of] of deadLetters) {
    if (alarmed.get(queue) === 'alarmed') continue;
    const why =
      alarmed.get(queue) === 'no-actions'
        ? 'its alarm has no AlarmActions: it tells nobody'
        : alarmed.get(queue) === 'blind-metric'
          ? 'its alarm watches a metric that dead letters do not move (NumberOfMessagesSent misses redriven messages)'
          : 'no alarm on it';
    problems.push(
      `${queue}: a dead-letter queue (${of}) without an alarm: ${why}; alarm on AWS/SQS ApproximateNumberOfMessagesVisible with QueueName !GetAtt ${queue}.QueueName and AlarmActions`,
    );
  }
  return problems;
}

/** Every queue that receives dead letters, with what it receives them from. */
function deadLetterQueues(context: TemplateContext): Map<string, string> {
  const queues = new Map<string, string>();
  const isQueue = (id: string | undefined): id is string =>
    id !== undefined && context.deployedTypes.get(id) === 'AWS::SQS::Queue';
  const add = (id: string | undefined, of: string) => {
    if (isQueue(id) && !queues.has(id)) queues.set(id, of);
  };
  for (const [logicalId, resource] of Object.entries(context.resources)) {
    const type = String(resource.Type);
    const properties = propertiesOf(resource);
    if (type === 'AWS::SQS::Queue' && isNode(properties.RedrivePolicy))
      add(target(properties.RedrivePolicy.deadLetterTargetArn, 'Arn'), `the redrive target of ${logicalId}`);
    if (type === FUNCTION || STATE_MACHINES.has(type)) {
      for (const [eventId, event] of eventsOf(properties)) {
        const config = isNode(event.Properties) ? event.Properties.DeadLetterConfig : undefined;
        if (!isNode(config)) continue;
        const generated =
          config.Type === 'SQS'
            ? typeof config.QueueLogicalId === 'string'
              ? config.QueueLogicalId
              : `${logicalId}${eventId}Queue`
            : target(config.Arn, 'Arn');
        add(generated, `the dead-letter queue of ${logicalId} event ${eventId}`);
      }
    }
    if (type === FUNCTION) {
      const invoke = isNode(properties.EventInvokeConfig) ? properties.EventInvokeConfig : {};
      const onFailure = isNode(invoke.DestinationConfig) ? invoke.DestinationConfig.OnFailure : undefined;
      if (isNode(onFailure) && onFailure.Type === 'SQS')
        add(target(onFailure.Destination, 'Arn'), `the on-failure destination of ${logicalId}`);
      if (isNode(properties.DeadLetterQueue))
        add(target(properties.DeadLetterQueue.TargetArn, 'Arn'), `the dead-letter queue of ${logicalId}`);
    }
    if (type === 'AWS::Events::Rule' && Array.isArray(properties.Targets))
      for (const t of properties.Targets)
        if (isNode(t) && isNode(t.DeadLetterConfig))
          add(target(t.DeadLetterConfig.Arn, 'Arn'), `the dead-letter queue of rule ${logicalId}`);
    if (
      type === 'AWS::Scheduler::Schedule' &&
      isNode(properties.Target) &&
      isNode(properties.Target.DeadLetterConfig)
    )
      add(
        target(properties.Target.DeadLetterConfig.Arn, 'Arn'),
        `the dead-letter queue of schedule ${logicalId}`,
      );
  }
  return queues;
}

/** How well each queue is alarmed: an alarm with actions on a dead-letter metric, or what falls short. */
function alarmedQueues(context: TemplateContext): Map<string, 'alarmed' | 'no-actions' | 'blind-metric'> {
  const rank = { 'blind-metric': 0, 'no-actions': 1, alarmed: 2 } as const;
  const best = new Map<string, keyof typeof rank>();
  const note = (queue: string, state: keyof typeof rank) => {
    const seen = best.get(queue);
    if (seen === undefined || rank[state] > rank[seen]) best.set(queue, state);
  };
  for (const resource of Object.values(context.resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const properties = propertiesOf(resource);
    const acts = Array.isArray(properties.AlarmActions) && properties.AlarmActions.length > 0;
    const metrics: Node[] = [properties];
    if (Array.isArray(properties.Metrics))
      for (const query of properties.Metrics)
        if (isNode(query) && isNode(query.MetricStat) && isNode(query.MetricStat.Metric))
          metrics.push(query.MetricStat.Metric);
    for (const metric of metrics) {
      if (metric.Namespace !== 'AWS/SQS' || !Array.isArray(metric.Dimensions)) continue;
      for (const dimension of metric.Dimensions) {
        const queue =
          isNode(dimension) && dimension.Name === 'QueueName'
            ? target(dimension.Value, 'QueueName')
            : undefined;
        if (queue === undefined) continue;
        note(
          queue,
          !DEAD_LETTER_METRICS.has(String(metric.MetricName))
            ? 'blind-metric'
            : acts
              ? 'alarmed'
              : 'no-actions',
        );
      }
    }
  }
  return best;
}
