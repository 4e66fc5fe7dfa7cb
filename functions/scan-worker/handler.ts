import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SqsRecordSchema, SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import middy from '@middy/core';
import type { SQSBatchResponse } from 'aws-lambda';
import { scanAdapters } from '#aws/wiring.ts';
import { runtimeClock as clock } from '#shared/clock.ts';
import { loadScanConfig } from '#shared/config.ts';
import { InvalidEventError, parseEvent } from '#shared/events/parse.ts';
import { SHARD_MESSAGE, type ShardMessage, ShardMessageSchema } from '#shared/events/shard.ts';
import { logger } from '#shared/logger.ts';
import { scanShard, shardWindow } from '#shared/scan/shard-worker.ts';

const config = loadScanConfig();
const adapters = scanAdapters(config);
const processor = new BatchProcessor(EventType.SQS);
const RESERVE_MS = 30_000;
// Lambda delivers 1 to 10 records (BatchSize in template.yaml); an empty batch is not an SQS event.
const ShardEventSchema = SqsSchema.extend({ Records: SqsRecordSchema.array().min(1).max(10) });

type SqsRecord = (typeof SqsRecordSchema)['_output'];

/**
 * SQS-triggered: scans one shard per record, in order. A record that fails (bad body, deadline,
 * throttling past the bound) is reported in batchItemFailures, so SQS retries it and, in the end, moves it
 * to the dead-letter queue; the others are not affected.
 */
export const handler = middy<unknown, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context, { signal }) => {
    const sqs = parseEvent(ShardEventSchema, event, `an SQS event whose records are ${SHARD_MESSAGE}s`);
    const shards = new Map<SqsRecord, ShardMessage | InvalidEventError>();
    for (const [index, record] of sqs.Records.entries()) shards.set(record, parseShard(record.body, index));
    const problems = [...shards.values()].filter((entry) => entry instanceof InvalidEventError);
    // Not one usable record: the event is wrong as a whole, and says so instead of a batch of failures.
    if (problems.length === sqs.Records.length && problems[0] !== undefined) throw problems[0];

    return processPartialResponse(
      sqs,
      async (record: SqsRecord) => {
        const shard = shards.get(record);
        if (shard === undefined || shard instanceof InvalidEventError) {
          logger.error('shard message refused', { messageId: record.messageId, problem: shard?.message });
          throw shard ?? new InvalidEventError('record not found');
        }
        const result = await scanShard(
          shard,
          { optIn: config.optIn, lookbackDays: config.lookbackDays, region: config.region },
          {
            ...adapters,
            clock,
            deadline: { remainingMs: () => context.getRemainingTimeInMillis() },
            concurrency: config.metricsConcurrency,
            reserveMs: RESERVE_MS,
          },
          signal,
        );
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

function parseShard(body: string, index: number): ShardMessage | InvalidEventError {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return new InvalidEventError(`expected ${SHARD_MESSAGE}, got a record ${index} body that is not JSON`, {
      cause: error,
    });
  }
  try {
    const shard = parseEvent(ShardMessageSchema, json, SHARD_MESSAGE);
    shardWindow(shard, config.lookbackDays, clock.now());
    return shard;
  } catch (error) {
    if (error instanceof InvalidEventError) {
      return new InvalidEventError(`record ${index}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
