import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import {
  loadFleetScanConfig,
  loadRemediationConfig,
  loadScanConfig,
  loadWorkflowStepConfig,
} from '#shared/config.ts';
import { ALARM_STATE_CHANGE, AlarmStateChangeSchema } from '#shared/events/alarm.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { SCHEDULE_TRIGGER, ScheduleTriggerSchema } from '#shared/events/schedule.ts';
import { METRIC_NAMESPACE, METRIC_SERVICE, PIPELINE_METRICS, SERVICE_DIMENSION } from '#shared/metrics.ts';
import { SIMULATED_ENVIRONMENT } from '#shared/sim/fleet.ts';
import { assembleDocuments, documentLogicalId, templateWithDocuments } from '#shared/ssm/build.ts';
import { readTemplate } from '#shared/tooling/cfn-yaml.ts';
import { type Json, ROOT, readEvent } from '#test/support/handlers.ts';

// ajv-draft-04 is CommonJS: its class is the module's `default` export.
const Ajv = AjvDraft04.default;
const template = readTemplate(resolve(ROOT, 'template.yaml')) as Json;
const resources = template.Resources as Record<string, Json>;
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');
const nameOf = (fn: Json) =>
  /^functions\/([a-z0-9-]+)\/handler\.handler$/.exec(fn.Properties.Handler)?.[1] ?? '';

/** What `!Ref` of the stack's other resources gives once deployed. */
const DEPLOYED: Record<string, string> = {
  RemediationStateMachine: 'arn:aws:states:us-east-1:123456789012:stateMachine:crawlguard-remediation',
  LedgerTable: 'crawlguard-LedgerTable-1',
  DiagnoseDocument: 'crawlguard-diagnose',
  PatchUpdatedbConfDocument: 'crawlguard-patch-updatedb-conf',
  RestartS3fsDocument: 'crawlguard-restart-s3fs',
  NotifyTopic: 'arn:aws:sns:us-east-1:123456789012:crawlguard-NotifyTopic-AbC123',
};

/** A function's environment with parameters at their defaults and resources as deployed names. */
function environment(fn: Json): Record<string, string> {
  const resolved: Record<string, string> = {};
  const variables = {
    ...template.Globals.Function.Environment.Variables,
    ...(fn.Properties.Environment?.Variables ?? {}),
  };
  for (const [key, value] of Object.entries<Json>(variables)) {
    if (typeof value === 'string') resolved[key] = value;
    else if (value.Ref !== undefined && template.Parameters[value.Ref] !== undefined)
      resolved[key] = String(template.Parameters[value.Ref].Default);
    else if (value.Ref === 'FindingsBus') resolved[key] = 'crawlguard-findings';
    else if (value.Ref === 'ShardQueue')
      resolved[key] = 'https://sqs.us-east-1.amazonaws.com/123456789012/crawlguard-ShardQueue-x';
    else if (typeof DEPLOYED[value.Ref] === 'string') resolved[key] = DEPLOYED[value.Ref] as string;
    else throw new Error(`unresolved ${key}: ${JSON.stringify(value)}`);
  }
  return resolved;
}

describe('template.yaml', () => {
  it('is a valid SAM template (against the SAM specification schema)', () => {
    const schema = JSON.parse(
      readFileSync(resolve(ROOT, 'test/fixtures/schemas/sam/sam.schema.json'), 'utf8'),
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(template);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(template.Transform).toBe('AWS::Serverless-2016-10-31');
  });

  it('catches a broken template (the validation can fail)', () => {
    const schema = JSON.parse(
      readFileSync(resolve(ROOT, 'test/fixtures/schemas/sam/sam.schema.json'), 'utf8'),
    );
    const validate = new Ajv({ strict: false }).compile(schema);
    const broken = structuredClone(template);
    broken.Resources.ScanWorkerFunction.Properties.Events.Shards.Properties.BatchSize = 'two';
    broken.Resources.FleetScanFunction.Properties.Handlr = 'x';
    expect(validate(broken)).toBe(false);
  });

  it('has one function per folder under functions/, each Handler pointing at a file that exists', () => {
    const folders = readdirSync(resolve(ROOT, 'functions')).sort();
    expect(functions.map(([, fn]) => nameOf(fn)).sort()).toEqual(folders);
    for (const [, fn] of functions)
      expect(existsSync(resolve(ROOT, 'functions', nameOf(fn), 'handler.ts'))).toBe(true);
  });

  it('builds every function through the Makefile (shared/tooling/build.ts), on nodejs22.x arm64', () => {
    expect(template.Globals.Function).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    for (const [, fn] of functions) {
      expect(fn.Properties.CodeUri).toBe('.');
      expect(fn.Metadata).toEqual({ BuildMethod: 'makefile' });
      expect(fn.Properties.Handler).toBe(`functions/${nameOf(fn)}/handler.handler`);
    }
  });

  it('gives every function the variables its configuration needs, valid at their defaults', () => {
    const env = Object.fromEntries(functions.map(([, fn]) => [nameOf(fn), environment(fn)]));
    expect(() => loadFleetScanConfig(env['fleet-scan'])).not.toThrow();
    expect(() => loadScanConfig(env['scan-worker'])).not.toThrow();
    expect(() => loadScanConfig(env['alarm-triage'])).not.toThrow();
    expect(loadRemediationConfig(env.remediate)).toMatchObject({ mode: 'dry-run' });
    expect(loadWorkflowStepConfig(env['workflow-step'])).toMatchObject({
      approvalTimeoutSeconds: 72 * 3600,
      alwaysRestart: false,
      dataPath: 'gateway-endpoint',
      notifyTopicArn: DEPLOYED.NotifyTopic,
    });
    // The simulated fleet runs the functions with the template's defaults (the worker's quota share).
    const worker = env['scan-worker'] ?? {};
    for (const key of [
      'OPT_IN_TAG_KEY',
      'OPT_IN_TAG_VALUE',
      'LOOKBACK_DAYS',
      'METRICS_REQUESTS_PER_SECOND',
      'METRICS_DATAPOINTS_PER_SECOND',
      'METRICS_CONCURRENCY',
    ]) {
      expect(SIMULATED_ENVIRONMENT[key], key).toBe(worker[key]);
    }
    expect(SIMULATED_ENVIRONMENT.SHARD_METRICS).toBe(env['fleet-scan']?.SHARD_METRICS);
  });

  it('keeps the workers within the GetMetricData quota of 50 calls/s and 396,000 datapoints/s', () => {
    const worker = environment(resources.ScanWorkerFunction);
    const concurrency =
      resources.ScanWorkerFunction.Properties.Events.Shards.Properties.ScalingConfig.MaximumConcurrency;
    expect(Number(worker.METRICS_REQUESTS_PER_SECOND) * concurrency).toBeLessThanOrEqual(50);
    expect(Number(worker.METRICS_DATAPOINTS_PER_SECOND) * concurrency).toBeLessThanOrEqual(396_000);
  });

  it('grants each function only the actions it calls, with resources where the action allows it', () => {
    const allowed: Record<string, string[]> = {
      'fleet-scan': [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'cloudwatch:ListMetrics',
        'cloudwatch:GetMetricData',
        'sqs:SendMessage',
      ],
      'scan-worker': ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation', 'cloudwatch:GetMetricData'],
      'alarm-triage': [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'cloudwatch:ListMetrics',
        'cloudwatch:GetMetricData',
        'cloudwatch:ListTagsForResource',
      ],
      remediate: [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'states:StartExecution',
        'states:DescribeExecution',
        'sns:Publish',
      ],
      'workflow-step': [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'ssm:DescribeDocument',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'cloudwatch:ListMetrics',
        'cloudwatch:GetMetricData',
        'sns:Publish',
      ],
    };
    const noResourceLevel = new Set([
      'ec2:DescribeInstances',
      'ssm:DescribeInstanceInformation',
      'cloudwatch:ListMetrics',
      'cloudwatch:GetMetricData',
    ]);
    for (const [, fn] of functions) {
      const name = nameOf(fn);
      const statements = fn.Properties.Policies.flatMap((p: Json) => p.Statement ?? []);
      const actions = statements.flatMap((s: Json) => [s.Action].flat());
      expect(new Set(actions), name).toEqual(new Set(allowed[name]));
      for (const s of statements) {
        expect(s.Effect).toBe('Allow');
        if (s.Action === 'sqs:SendMessage')
          expect(s.Resource).toEqual({ 'Fn::GetAtt': ['ShardQueue', 'Arn'] });
        if (s.Resource === '*')
          for (const action of [s.Action].flat()) expect(noResourceLevel.has(action), action).toBe(true);
      }
      const templates = fn.Properties.Policies.filter((p: Json) => p.Statement === undefined).map(
        (p: Json) => Object.keys(p)[0],
      );
      expect(templates, name).toEqual(
        // Every publisher on the bus (workflow-step: verification verdicts) and only they.
        name === 'remediate' ? [] : ['EventBridgePutEventsPolicy'],
      );
    }
  });

  it('schedules the scan with an Input that fleet-scan accepts', () => {
    const schedule = resources.FleetScanFunction.Properties.Events.Daily;
    expect(schedule.Type).toBe('ScheduleV2');
    const input = JSON.parse(
      schedule.Properties.Input.replace('<aws.scheduler.scheduled-time>', '2026-11-04T13:00:00Z').replace(
        '<aws.scheduler.execution-id>',
        '0b3c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d',
      ),
    );
    expect(parseEvent(ScheduleTriggerSchema, input, SCHEDULE_TRIGGER)).toMatchObject({
      via: 'eventbridge-scheduler',
    });
  });

  it('routes alarms going into ALARM to alarm-triage, and nothing else', () => {
    const pattern = resources.AlarmTriageFunction.Properties.Events.AlarmIntoAlarm.Properties.Pattern;
    const matches = (event: Json) =>
      pattern.source.includes(event.source) &&
      pattern['detail-type'].includes(event['detail-type']) &&
      pattern.detail.state.value.includes(event.detail.state.value);
    const into = readEvent('events/alarm-triage/single-metric.json');
    expect(matches(into)).toBe(true);
    expect(parseEvent(AlarmStateChangeSchema, into, ALARM_STATE_CHANGE)).toBeDefined();
    expect(matches(readEvent('events/alarm-triage/back-to-ok.json'))).toBe(false);
  });

  it('feeds scan-worker from the shard queue with partial batch responses and a dead-letter queue', () => {
    const sqs = resources.ScanWorkerFunction.Properties.Events.Shards;
    expect(sqs).toMatchObject({
      Type: 'SQS',
      Properties: {
        Queue: { 'Fn::GetAtt': ['ShardQueue', 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    });
    const queue = resources.ShardQueue.Properties;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * template.Globals.Function.Timeout);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['ShardDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 3,
    });
  });

  it('exposes the tag key and value and the lookback as parameters, and keeps the SSM documents section', () => {
    expect(template.Parameters).toMatchObject({
      OptInTagKey: { Default: 'crawlguard:enabled' },
      OptInTagValue: { Default: 'true' },
      LookbackDays: { Default: 14 },
    });
    const text = readFileSync(resolve(ROOT, 'template.yaml'), 'utf8');
    const resourcesAt = text.indexOf('\nResources:');
    const marker = text.indexOf('  # --- SSM documents (generated by shared/ssm/build.ts) ---');
    expect(marker).toBeGreaterThan(resourcesAt);
    expect(marker).toBeLessThan(text.indexOf('\nOutputs:'));
  });
});

describe('the SSM documents in template.yaml', () => {
  it('are what shared/ssm/build.ts assembles from the documents and scripts (run npm run ssm:template)', () => {
    const text = readFileSync(resolve(ROOT, 'template.yaml'), 'utf8');
    expect(text).toBe(templateWithDocuments(text));
  });

  it('declares each document as a Command document named after the stack, with its script in it', () => {
    for (const document of assembleDocuments()) {
      const resource = template.Resources[documentLogicalId(document.name)];
      expect(resource).toMatchObject({
        Type: 'AWS::SSM::Document',
        Properties: {
          Name: { 'Fn::Sub': `\${AWS::StackName}-${document.name}` },
          DocumentType: 'Command',
          UpdateMethod: 'NewVersion',
          Content: document.content,
        },
      });
    }
  });
});

/** A Fn::Sub string with each `${Name}` (and `${Name.Attribute}`) replaced by what `value` gives. */
function substituted(sub: Json, value: (name: string) => string): string {
  const text = typeof sub['Fn::Sub'] === 'string' ? sub['Fn::Sub'] : sub['Fn::Sub'][0];
  return text.replace(/\$\{([^}!]+)\}/g, (_: string, name: string) => value(name));
}
const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
/** The metrics an alarm watches (a single metric or the MetricStat queries of its metric math). */
const watched = (alarm: Json): Json[] =>
  alarm.Properties.Metrics === undefined
    ? [alarm.Properties]
    : alarm.Properties.Metrics.filter((m: Json) => m.MetricStat !== undefined).map(
        (m: Json) => m.MetricStat.Metric,
      );

describe('operating the stack (template.yaml)', () => {
  const dashboard = JSON.parse(
    substituted(resources.OperationsDashboard.Properties.DashboardBody, (name) =>
      name.startsWith('AWS::') ? 'x' : `<${name}>`,
    ),
  );
  /** Every metric a widget names: [namespace, name, dimension names] of metric arrays and SEARCH expressions. */
  const referenced: { namespace: string; name: string; dimensions: string[] }[] = dashboard.widgets.flatMap(
    (widget: Json) =>
      (widget.properties.metrics ?? []).flatMap((row: Json[]) => {
        const [first] = row;
        if (typeof first === 'string') {
          const names = row.filter((item): item is string => typeof item === 'string');
          return [
            { namespace: names[0], name: names[1], dimensions: names.slice(2).filter((_, i) => i % 2 === 0) },
          ];
        }
        const search = /^SEARCH\('\{([^}]*)\} MetricName="([^"]+)"'/.exec(first.expression ?? '');
        if (search === null) return [];
        const [namespace = '', ...dimensions] = (search[1] ?? '').split(',');
        return [{ namespace, name: search[2] ?? '', dimensions }];
      }),
  );

  it('charts every pipeline metric by the names and dimensions of shared/metrics.ts, and nothing else of its namespace', () => {
    const ours = referenced.filter((m) => m.namespace === METRIC_NAMESPACE);
    for (const spec of Object.values(PIPELINE_METRICS)) {
      const charted = ours.filter((m) => m.name === spec.name);
      expect(charted, spec.name).not.toEqual([]);
      for (const m of charted)
        expect(m.dimensions.sort(), spec.name).toEqual(
          [SERVICE_DIMENSION, ...(spec.dimension === null ? [] : [spec.dimension])].sort(),
        );
    }
    const names = Object.values(PIPELINE_METRICS).map((s) => s.name);
    for (const m of ours) expect(names).toContain(m.name);
    // The one metric charted as an array names the service as Powertools emits it.
    expect(JSON.stringify(dashboard)).toContain(`["crawlguard","BreakerOpen","service","${METRIC_SERVICE}"`);
  });

  it('never charts or alarms on an instance by name: the fleet comes from Metrics Insights queries', () => {
    for (const m of referenced) expect(m.dimensions).not.toContain('InstanceId');
    const queries: string[] = dashboard.widgets.flatMap((w: Json) =>
      (w.properties.metrics ?? []).flatMap((row: Json[]) =>
        typeof row[0] === 'object' && /^SELECT /.test(row[0].expression) ? [row[0].expression] : [],
      ),
    );
    expect(
      queries.filter((q) => /FROM SCHEMA\("AWS\/EC2", InstanceId\)/.test(q) && /NetworkOut/.test(q)),
    ).toHaveLength(2);
    for (const q of queries.filter((q) => /NetworkOut/.test(q)))
      expect(q).toContain(`WHERE tag."<OptInTagKey>" = '<OptInTagValue>'`);
    expect(queries.some((q) => q.includes('mem_used_percent'))).toBe(true);
    expect(queries.some((q) => q.includes('procstat_memory_rss'))).toBe(true);
    for (const [id, alarm] of alarms)
      for (const metric of watched(alarm))
        expect(
          (metric.Dimensions ?? []).map((d: Json) => d.Name),
          id,
        ).not.toContain('InstanceId');
  });

  it('alarms on every dead-letter queue, by its QueueName, into the alarm topic', () => {
    const deadLetterQueues = [
      'ShardDeadLetterQueue',
      'FleetScanScheduleDeadLetterQueue',
      'AlarmTriageFunctionAlarmIntoAlarmQueue',
      'RemediateFunctionFindingsQueue',
      'FailedInvocationQueue',
    ];
    // The queues the template sends dead letters to.
    expect(resources.ShardQueue.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]).toBe(
      deadLetterQueues[0],
    );
    expect(
      resources.FleetScanFunction.Properties.Events.Daily.Properties.DeadLetterConfig.QueueLogicalId,
    ).toBe(deadLetterQueues[1]);
    expect(
      resources.AlarmTriageFunction.Properties.Events.AlarmIntoAlarm.Properties.DeadLetterConfig,
    ).toEqual({ Type: 'SQS' });
    expect(resources.RemediateFunction.Properties.Events.Findings.Properties.DeadLetterConfig).toEqual({
      Type: 'SQS',
    });
    for (const queue of deadLetterQueues) {
      const watching = alarms.filter(([, alarm]) =>
        watched(alarm).some(
          (m) =>
            m.Namespace === 'AWS/SQS' &&
            m.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            m.Dimensions.some(
              (d: Json) =>
                d.Name === 'QueueName' && d.Value['Fn::GetAtt']?.join('.') === `${queue}.QueueName`,
            ),
        ),
      );
      expect(watching, queue).toHaveLength(1);
      const [, alarm] = watching[0] as [string, Json];
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    }
  });

  it('alarms on failed, timed-out and aborted executions of both workflows, the breaker, and each function', () => {
    const metricsOf = (id: string) => watched(resources[id]).map((m) => `${m.Namespace} ${m.MetricName}`);
    for (const [id, machine] of [
      ['RemediationExecutionsAlarm', 'RemediationStateMachine'],
      ['RunCommandExecutionsAlarm', 'RunCommandStateMachine'],
    ]) {
      expect(metricsOf(id as string)).toEqual([
        'AWS/States ExecutionsFailed',
        'AWS/States ExecutionsTimedOut',
        'AWS/States ExecutionsAborted',
      ]);
      for (const m of watched(resources[id as string]))
        expect(m.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: machine } }]);
    }
    expect(resources.BreakerOpenAlarm.Properties).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: PIPELINE_METRICS.breakerOpen.name,
      Dimensions: [{ Name: SERVICE_DIMENSION, Value: METRIC_SERVICE }],
      Statistic: 'Maximum',
      Threshold: 1,
      TreatMissingData: 'ignore',
    });
    for (const [id] of functions) {
      expect(metricsOf(`${id}ErrorsAlarm`), id).toEqual(['AWS/Lambda Errors', 'AWS/Lambda Throttles']);
      for (const m of watched(resources[`${id}ErrorsAlarm`]))
        expect(m.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: id } }]);
    }
    for (const [id, alarm] of alarms)
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
    // Every alarm is on the dashboard's alarm widget.
    const widget = dashboard.widgets.find((w: Json) => w.type === 'alarm');
    expect([...widget.properties.alarms].sort()).toEqual(alarms.map(([id]) => `<${id}.Arn>`).sort());
  });

  it('subscribes the alarm e-mail only when one is given', () => {
    expect(template.Parameters.AlarmEmail.Default).toBe('');
    expect(template.Conditions.HasAlarmEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }],
    });
    expect(resources.AlarmEmailSubscription).toMatchObject({
      Condition: 'HasAlarmEmail',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } },
    });
    const pattern = new RegExp(template.Parameters.AlarmEmail.AllowedPattern);
    for (const good of ['', 'ops@example.com']) expect(pattern.test(good), good).toBe(true);
    for (const bad of ['ops', 'a@b', 'ops@example.com"}', 'a b@example.com'])
      expect(pattern.test(bad), bad).toBe(false);
  });

  it('logs every function and workflow into its own group, kept LogRetentionDays, without execution data', () => {
    expect(template.Parameters.LogRetentionDays.Default).toBe(30);
    const groups = new Set<string>();
    for (const [id, fn] of functions) {
      const group = fn.Properties.LoggingConfig.LogGroup.Ref;
      expect(resources[group], id).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: { Ref: 'LogRetentionDays' } },
      });
      groups.add(group);
    }
    for (const id of ['RemediationStateMachine', 'RunCommandStateMachine']) {
      const logging = resources[id].Properties.Logging;
      expect(logging).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
      const group = logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      expect(resources[group].Properties.RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
      expect(resources[group].Properties.LogGroupName['Fn::Sub']).toMatch(/^\/aws\/vendedlogs\/states\//);
      groups.add(group);
    }
    expect(groups.size).toBe(functions.length + 2);
  });

  it('keeps what an asynchronous invocation fails on: an on-failure queue for the three async functions', () => {
    const asynchronous = ['FleetScanFunction', 'AlarmTriageFunction', 'RemediateFunction'];
    for (const id of asynchronous)
      expect(resources[id].Properties.EventInvokeConfig.DestinationConfig.OnFailure, id).toEqual({
        Type: 'SQS',
        Destination: { 'Fn::GetAtt': ['FailedInvocationQueue', 'Arn'] },
      });
    // SQS and Step Functions call the other two synchronously.
    expect(resources.ScanWorkerFunction.Properties.EventInvokeConfig).toBeUndefined();
    expect(resources.WorkflowStepFunction.Properties.EventInvokeConfig).toBeUndefined();
  });
});
