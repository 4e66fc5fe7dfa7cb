/**
 * A local DynamoDB for the tests, `npm start` and the faults harness: dynalite (in memory) inside this
 * process on 127.0.0.1, with the ledger table created as `LEDGER_TABLE` defines it.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { dynamoDbClient } from '#aws/clients.ts';
import { createLedgerTable } from '#aws/dynamodb-ledger.ts';
import { holdClockDuringRequests, type VirtualClock } from '#shared/sim/virtual-clock.ts';

/** A running local DynamoDB with the ledger table. */
export interface LocalDynamoDb {
  /** A client pointed at it (dummy credentials, us-east-1, one attempt per call). */
  readonly client: ReturnType<typeof dynamoDbClient>;
  readonly tableName: string;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Stops the client and the server this call started (nothing else). */
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 (a free port) and creates the ledger table. With `clock`, every request
 * of the returned client holds the simulated clock, so simulated time never jumps while one is in flight.
 */
export async function startLocalDynamoDb(
  options: { readonly tableName?: string; readonly clock?: VirtualClock } = {},
): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = dynamoDbClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const close = async (): Promise<void> => {
    client.destroy();
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
  };
  const tableName = options.tableName ?? 'crawlguard-ledger';
  try {
    await createLedgerTable(client, tableName, AbortSignal.timeout(30_000));
  } catch (error) {
    await close();
    throw error;
  }
  // After the table exists: creating it is set-up, not part of the simulation.
  if (options.clock !== undefined) holdClockDuringRequests(client, options.clock);
  return { client, tableName, endpoint, close };
}
