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
      ],
      'workflow-step': [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'ssm:DescribeDocument',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
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
        name === 'remediate' || name === 'workflow-step' ? [] : ['EventBridgePutEventsPolicy'],
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
