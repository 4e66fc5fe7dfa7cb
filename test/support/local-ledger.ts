import { DynamoDbLedger, type DynamoDbLedgerOptions } from '#aws/dynamodb-ledger.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '#shared/local/dynamodb.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

/** A ledger on a dynalite of its own (127.0.0.1, in memory) and a simulated clock that its requests hold. */
export interface LocalLedger {
  readonly ledger: DynamoDbLedger;
  readonly db: LocalDynamoDb;
  readonly clock: VirtualClock;
  close(): Promise<void>;
}

/** Starts dynalite with the ledger table; `close` stops it. */
export async function localLedger(
  options: Partial<Omit<DynamoDbLedgerOptions, 'tableName' | 'clock'>> & { readonly startMs?: number } = {},
): Promise<LocalLedger> {
  const clock = new VirtualClock(options.startMs ?? Date.parse('2026-12-01T00:00:00.000Z'), 7);
  const db = await startLocalDynamoDb({ clock });
  const ledger = new DynamoDbLedger(db.client, {
    tableName: db.tableName,
    clock,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  });
  return { ledger, db, clock, close: () => db.close() };
}
