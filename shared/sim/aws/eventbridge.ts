import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { type ClientMock, opaqueId, type SimulatedAws, serviceError } from './core.ts';

/** An event PutEvents accepted. */
export interface PublishedEvent {
  readonly eventBusName: string | undefined;
  readonly source: string;
  readonly detailType: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
  readonly at: number;
}

const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;

const ebError = (name: string, message: string) => serviceError(EventBridgeServiceException, name, message);

/** EventBridge PutEvents: entry and size limits, malformed details, failed entries; keeps what it accepted. */
export function simulateEventBridge(
  aws: SimulatedAws,
  options: { readonly putEventsPerSecond: number; readonly entryFailure: number },
): { readonly client: EventBridgeClient; readonly mock: ClientMock; readonly published: PublishedEvent[] } {
  const client = new EventBridgeClient({ region: 'us-east-1' });
  const mock = aws.mock('eventbridge', client);
  const published: PublishedEvent[] = [];
  aws.limit('PutEvents', options.putEventsPerSecond);
  mock.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
    aws.serve(
      'eventbridge',
      'PutEvents',
      input,
      () => {
        const entries = input.Entries ?? [];
        if (entries.length < 1 || entries.length > MAX_ENTRIES)
          throw ebError('ValidationException', `${entries.length} entries: must be 1 to ${MAX_ENTRIES}`);
        const size = entries.reduce(
          (sum, e) =>
            sum +
            Buffer.byteLength(e.Source ?? '') +
            Buffer.byteLength(e.DetailType ?? '') +
            Buffer.byteLength(e.Detail ?? '') +
            (e.Resources ?? []).reduce((s, r) => s + Buffer.byteLength(r), 0) +
            (e.Time === undefined ? 0 : 14),
          0,
        );
        if (size > MAX_BYTES) {
          throw ebError(
            'ValidationException',
            `Total size of the entries in the request is over the limit (${size} bytes)`,
          );
        }
        const results: PutEventsResultEntry[] = entries.map((entry) => {
          let detail: unknown;
          try {
            detail = JSON.parse(entry.Detail ?? '');
          } catch {
            return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
          }
          if (
            entry.Source === undefined ||
            entry.DetailType === undefined ||
            typeof detail !== 'object' ||
            detail === null
          ) {
            return {
              ErrorCode: 'MalformedDetail',
              ErrorMessage: 'Source, DetailType and an object Detail are required.',
            };
          }
          if (aws.rng.chance(options.entryFailure))
            return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure.' };
          published.push({
            eventBusName: entry.EventBusName,
            source: entry.Source,
            detailType: entry.DetailType,
            resources: entry.Resources ?? [],
            detail,
            at: aws.clock.now(),
          });
          return { EventId: opaqueId(entry.Detail ?? '', published.length) };
        });
        return {
          Entries: results,
          FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length,
          $metadata: {},
        };
      },
      { throttle: () => ebError('ThrottlingException', 'Rate exceeded') },
    ),
  );
  return { client, mock, published };
}
