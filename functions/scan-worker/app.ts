import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SqsRecordSchema, SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import middy from '@middy/core';
import type { SQSBatchResponse } from 'aws-lambda';
import { scanClients } from '#aws/clients.ts';
import { type ScanClients, scanPorts } from '#aws/wiring.ts';
import type { Clock } from '#shared/clock.ts';
import { type Env, loadScanConfig, type ScanConfig } from '#shared/config.ts';
import { InvalidEventError, parseEvent } from '#shared/events/parse.ts';
import { SHARD_MESSAGE, ShardMessageSchema } from '#shared/events/shard.ts';
import { type HandlerRuntime, runtimeWithDefaults, scanRuntime } from '#shared/runtime.ts';
import { type ShardTask, scanShard, shardTask } from '#shared/scan/shard-worker.ts';

export interface ScanWorkerHandlerDeps extends HandlerRuntime<ScanClients> {
  readonly config: ScanConfig;
}

const RESERVE_MS = 30_000;
// Lambda delivers 1 to 10 records (BatchSize in template.yaml); an empty batch is not an SQS event.
const ShardEventSchema = SqsSchema.extend({ Records: SqsRecordSchema.array().min(1).max(10) });

type SqsRecord = (typeof SqsRecordSchema)['_output'];

/**
 * SQS-triggered: scans one shard per record, in order. A record that fails (bad body, deadline,
 * throttling past the bound) is reported in batchItemFailures, so SQS retries it and, in the end, moves it
 * to the dead-letter queue; the others are not affected.
 */
export function createHandler({ config, clients, clock, logger, pipelineMetrics }: ScanWorkerHandlerDeps) {
  const ports = scanPorts(clients, config, clock);
  const processor = new BatchProcessor(EventType.SQS);
  return middy<unknown, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context, { signal }) => {
      const sqs = parseEvent(ShardEventSchema, event, `an SQS event whose records are ${SHARD_MESSAGE}s`);
      const tasks = new Map<SqsRecord, ShardTask | InvalidEventError>();
      for (const [index, record] of sqs.Records.entries())
        tasks.set(record, parseShard(record.body, index, config, clock));
      const problems = [...tasks.values()].filter((entry) => entry instanceof InvalidEventError);
      // Not one usable record: the event is wrong as a whole, and says so instead of a batch of failures.
      if (problems.length === sqs.Records.length && problems[0] !== undefined) throw problems[0];

      return processPartialResponse(
        sqs,
        async (record: SqsRecord) => {
          const task = tasks.get(record);
          if (task === undefined || task instanceof InvalidEventError) {
            logger.error('shard message refused', { messageId: record.messageId, problem: task?.message });
            throw task ?? new InvalidEventError('record not found');
          }
          const result = await scanShard(
            task,
            config,
            { ...ports, ...scanRuntime(config, clock, context, RESERVE_MS) },
            signal,
          );
          pipelineMetrics.findingsPublished(result.scan.verdicts);
          logger.info('shard scanned', {
            messageId: record.messageId,
            ...result.shard,
            verdicts: result.scan.verdicts,
          });
          return result;
        },
        processor,
        { context, processInParallel: false },
      );
    });
}

/** Dependencies as deployed: configuration from the environment, real clients, the system clock. */
export function depsFromEnv(
  env?: Env,
  runtime: Partial<HandlerRuntime<ScanClients>> = {},
): ScanWorkerHandlerDeps {
  return { config: loadScanConfig(env), ...runtimeWithDefaults(runtime, scanClients) };
}

/** A record's shard message with its window checked, or why it cannot be used. */
function parseShard(
  body: string,
  index: number,
  config: ScanConfig,
  clock: Clock,
): ShardTask | InvalidEventError {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return new InvalidEventError(`expected ${SHARD_MESSAGE}, got a record ${index} body that is not JSON`, {
      cause: error,
    });
  }
  try {
    return shardTask(parseEvent(ShardMessageSchema, json, SHARD_MESSAGE), config.lookbackDays, clock.now());
  } catch (error) {
    if (error instanceof InvalidEventError) {
      return new InvalidEventError(`record ${index}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
