import { describe, expect, it } from 'vitest';
import { ConfigError, loadFleetScanConfig, loadScanConfig } from '#shared/config.ts';
import { SIMULATED_ENVIRONMENT } from '#shared/sim/fleet.ts';

const env = { ...SIMULATED_ENVIRONMENT };

describe('configuration', () => {
  it('reads every setting once, typed', () => {
    expect(loadFleetScanConfig(env)).toEqual({
      optIn: { key: 'crawlguard:enabled', value: 'true' },
      lookbackDays: 14,
      findingsBusName: 'crawlguard-findings',
      metricsLimits: { requestsPerSecond: 20, datapointsPerSecond: 178_000 },
      metricsConcurrency: 4,
      region: 'us-east-1',
      shardQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/crawlguard-scan-shards',
      shardMetrics: 1000,
    });
  });

  it.each([
    'OPT_IN_TAG_KEY',
    'OPT_IN_TAG_VALUE',
    'LOOKBACK_DAYS',
    'FINDINGS_BUS_NAME',
    'METRICS_CONCURRENCY',
  ])('names a missing %s', (name) => {
    const { [name]: _, ...rest } = env;
    expect(() => loadScanConfig(rest)).toThrow(new ConfigError(`environment variable ${name} is not set`));
  });

  it.each([
    [
      'OPT_IN_TAG_VALUE',
      '*',
      'must not contain * ? " or \\ (wildcards in EC2 filters; quotes in the IAM condition)',
    ],
    ['OPT_IN_TAG_VALUE', 'a"b', 'must not contain * ? " or \\'],
    ['OPT_IN_TAG_KEY', 'team"x', 'must not contain " or \\'],
    ['OPT_IN_TAG_VALUE', 'tru?', 'wildcards'],
    ['OPT_IN_TAG_VALUE', 'true\n', 'control characters'],
    ['OPT_IN_TAG_KEY', 'aws:enabled', 'reserved by AWS'],
    ['LOOKBACK_DAYS', '0', ''],
    ['LOOKBACK_DAYS', '14.5', ''],
    ['LOOKBACK_DAYS', '456', ''],
    ['FINDINGS_BUS_NAME', 'bus name with spaces', 'is not an event bus name or ARN'],
    ['METRICS_DATAPOINTS_PER_SECOND', '-5', ''],
  ])('refuses %s=%j', (name, value, message) => {
    const load = () => loadScanConfig({ ...env, [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`environment variable ${name}=${JSON.stringify(value)}: `);
    expect(load).toThrow(message);
  });

  it('needs an http(s) queue URL for fleet-scan only', () => {
    expect(() => loadFleetScanConfig({ ...env, SHARD_QUEUE_URL: 'file:///etc/passwd' })).toThrow(
      'environment variable SHARD_QUEUE_URL',
    );
    expect(() => loadScanConfig({ ...env, SHARD_QUEUE_URL: undefined })).not.toThrow();
  });

  it('leaves the region null outside Lambda', () => {
    expect(loadScanConfig({ ...env, AWS_REGION: undefined }).region).toBeNull();
  });
});
