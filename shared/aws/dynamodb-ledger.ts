/**
 * The remediation ledger on one DynamoDB table (key `pk`, `sk`). Items:
 * - `instance#<id>` / `current`: the instance's record (episode counter, active claim, cooldown, ...);
 * - `instance#<id>` / `event#<at>#<eventId>`: append-only audit events, oldest first by key;
 * - `instance#<id>` / `eventid#<eventId>`: the instant an event id was first written at (its idempotency);
 * - `counter#<key>` / `current`: rate counters; `breaker` / `current`: the fleet's circuit breaker;
 * - `approval#<id>` / `current`: approvals waiting for a person;
 * - `digest#<runId>` / `round#<n>`: the approvals of a scan run one approval digest tells a person about.
 * No transactions (dynalite has none): every claim and counter is one conditional write, and every
 * expiry, cooldown and suppression is an ISO instant compared inside the condition. TTL (`expiresAt`,
 * epoch seconds, on counters and approvals only) just cleans up.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { FINDING_KINDS, type FindingKind } from '#core/assessment.ts';
import { CrawlguardError } from '#core/errors.ts';
import { isInstanceId, quote } from '#core/instances.ts';
import {
  type ActiveEpisode,
  type BreakerState,
  EPISODE_OUTCOMES,
  type InstanceRecord,
  type LedgerEvent,
  REMEDIATION_MODES,
} from '#core/remediation/types.ts';
import type { Clock } from '#shared/clock.ts';
import type {
  Approval,
  ClaimRequest,
  ClaimResult,
  CloseRequest,
  DigestRound,
  Ledger,
} from '#shared/ports.ts';
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

/**
 * The ledger table's definition, the one source for the template, the local server and the tests:
 * string keys `pk` (hash) and `sk` (range), on-demand billing, TTL on `expiresAt` (epoch seconds).
 */
export const LEDGER_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  keySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  attributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  billingMode: 'PAY_PER_REQUEST',
  ttlAttribute: 'expiresAt',
} as const;

/** Size bounds, in UTF-8 bytes, of what the ledger stores from outside. */
export const LEDGER_LIMITS = {
  /** One-line texts: summaries, reasons. */
  lineBytes: 1024,
  /** Who or what: run ids, operators. */
  nameBytes: 256,
  /** An event's `detail`, as JSON. */
  detailBytes: 4096,
  /** An approval's `plan`, as JSON. */
  planBytes: 65_536,
  /** Step Functions' own bound on a task token. */
  taskTokenChars: 2048,
} as const;

/** How long an approval item outlives its expiry before TTL may remove it (decisions are also events). */
const APPROVAL_RETENTION_SECONDS = 30 * 86_400;
/** Digest rounds a run may open: approvals later than the last one wait unlisted (the listing shows them). */
export const MAX_DIGEST_ROUNDS = 10;
const DIGEST_RETENTION_SECONDS = 30 * 86_400;
// A run id as the findings and requests carry it.
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
// A failed claim whose blocker is gone by the time it is read (closed meanwhile) is tried again, this often.
const CLAIM_ATTEMPTS = 4;
const TRUNCATED = '…[truncated]';
const CURRENT = 'current';
const BREAKER_KEY = { pk: 'breaker', sk: CURRENT } as const;
const EVENT_PREFIX = 'event#';
// The one instant format the conditions compare as strings: fixed width, UTC, so string order is time order.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Ids that end up in keys: printable ASCII, no spaces.
const KEY_PART = /^[\x21-\x7e]{1,256}$/;
const EVENT_TYPES = ['decision', 'claim', 'command', 'outcome', 'approval', 'verdict', 'breaker'] as const;

/** A DynamoDB call of the ledger failed (after retries); `cause` is the SDK's error. */
export class LedgerError extends CrawlguardError {
  override readonly name = 'LedgerError';
}

/** A request the ledger refuses before writing anything: a malformed id, instant or value. */
export class InvalidLedgerRequestError extends CrawlguardError {
  override readonly name = 'InvalidLedgerRequestError';
}

/** The Step Functions execution name of an instance's episode. */
export function executionName(instanceId: string, episode: number): string {
  return `${instanceId}-${episode}`;
}

/**
 * Creates the ledger table as `LEDGER_TABLE` defines it and waits until it is active (local servers and
 * tests; the template creates the real one). TTL is the template's business: dynalite has no TTL API.
 */
export async function createLedgerTable(
  client: DynamoDBClient,
  tableName: string,
  signal: AbortSignal,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [...LEDGER_TABLE.keySchema],
      AttributeDefinitions: [...LEDGER_TABLE.attributeDefinitions],
      BillingMode: LEDGER_TABLE.billingMode,
    }),
    { abortSignal: signal },
  );
  await waitUntilTableExists(
    // A local server activates a table within milliseconds: poll in tens of them, not seconds.
    { client, maxWaitTime: 30, minDelay: 0.01, maxDelay: 1, abortSignal: signal },
    { TableName: tableName },
  );
}

/**
 * `value` as one line of at most `maxBytes` UTF-8 bytes: control characters (C0, DEL, C1) written as
 * `\uXXXX`, lone surrogates replaced by U+FFFD, and anything past the bound cut off with a marker.
 */
export function boundedLine(value: string, maxBytes: number): string {
  // Each UTF-16 unit takes at least one byte: a longer prefix could never fit anyway (and gets the marker).
  const head = value.length > maxBytes ? value.slice(0, maxBytes + 1) : value;
  let escaped = '';
  for (const char of head) {
    const code = char.charCodeAt(0);
    escaped +=
      code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return boundedText(escaped, maxBytes);
}

/** `value` cut to at most `maxBytes` UTF-8 bytes on a character boundary, with a marker when cut. */
function boundedText(value: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  const whole = new Uint8Array(Math.min(value.length * 3, maxBytes + 4));
  const fits = encoder.encodeInto(value, whole);
  if (fits.read === value.length && fits.written <= maxBytes) return wellFormed(whole, fits.written);
  const room = new Uint8Array(maxBytes - encoder.encode(TRUNCATED).length);
  return `${wellFormed(room, encoder.encodeInto(value, room).written)}${TRUNCATED}`;
}

/** The UTF-8 bytes decoded back: what was stored is exactly what is read. */
function wellFormed(bytes: Uint8Array, length: number): string {
  return new TextDecoder().decode(bytes.subarray(0, length));
}

/** JSON of `value` as stored: whole when it fits, else a bounded preview and its size. */
type StoredJson = { readonly json: string } | { readonly preview: string; readonly bytes: number };

function boundedJson(value: unknown, maxBytes: number): StoredJson {
  let json: string;
  try {
    json = JSON.stringify(value) ?? 'null';
  } catch (error) {
    // Cycles, BigInts: keep that it happened, not the value.
    json = JSON.stringify({ unserialisable: error instanceof Error ? error.message : String(error) });
  }
  const bytes = new TextEncoder().encode(json).length;
  return bytes <= maxBytes
    ? { json: boundedText(json, maxBytes) }
    : { preview: boundedText(json, maxBytes), bytes };
}

function readJson(stored: StoredJson): Record<string, unknown> {
  if ('preview' in stored) return { truncated: true, bytes: stored.bytes, preview: stored.preview };
  let value: unknown;
  try {
    value = JSON.parse(stored.json);
  } catch (error) {
    throw new LedgerError(`corrupt JSON in a ledger item: ${quote(stored.json)}`, { cause: error });
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}

// --- Stored items, checked when read ---------------------------------------------------------------

const Instant = z.string().regex(INSTANT);
const StoredJsonSchema = z.union([
  z.object({ json: z.string() }),
  z.object({ preview: z.string(), bytes: z.number().int() }),
]);

const InstanceItem = z.object({
  instanceId: z.string(),
  episode: z.number().int().nonnegative(),
  // The active claim is always the latest episode: its number and execution name follow from `episode`.
  active: z
    .object({
      kinds: z.array(z.enum(FINDING_KINDS)),
      mode: z.enum(REMEDIATION_MODES),
      claimedAt: Instant,
      expiresAt: Instant,
      runId: z.string(),
    })
    .optional(),
  lastClosed: z
    .object({
      episode: z.number().int(),
      outcome: z.enum(EPISODE_OUTCOMES),
      closedAt: Instant,
      reason: z.string(),
    })
    .optional(),
  cooldownUntil: Instant.optional(),
  suppressedUntil: Instant.optional(),
  consecutiveFailures: z.number().int().optional(),
  escalated: z.boolean().optional(),
});

const EventItem = z.object({
  instanceId: z.string(),
  eventId: z.string(),
  at: Instant,
  type: z.enum(EVENT_TYPES),
  episode: z.number().int().nullable(),
  summary: z.string(),
  detail: StoredJsonSchema,
});

const BreakerItem = z.object({
  open: z.boolean().optional(),
  reason: z.string().optional(),
  openedAt: Instant.optional(),
  consecutiveFailures: z.number().int().optional(),
});

const ApprovalItem = z.object({
  status: z.enum(['pending', 'approved', 'denied']),
  decidedBy: z.string().nullable(),
  decidedAt: Instant.nullable(),
  request: z.object({
    approvalId: z.string(),
    instanceId: z.string(),
    episode: z.number().int(),
    executionName: z.string(),
    taskToken: z.string(),
    requestedAt: Instant,
    expiresAt: Instant,
    plan: StoredJsonSchema,
  }),
});

const DigestItem = z.object({
  runId: z.string(),
  round: z.number().int().min(1),
  approvalIds: z.set(z.string()),
  openedAt: Instant,
  dueAt: Instant,
  claimedBy: z.string().optional(),
  claimedAt: Instant.optional(),
  sentAt: Instant.optional(),
  listed: z.number().int().optional(),
});

function toDigestRound(item: Record<string, unknown>): DigestRound {
  const stored = parseItem(DigestItem, item);
  return {
    runId: stored.runId,
    round: stored.round,
    approvalIds: [...stored.approvalIds].sort(),
    openedAt: stored.openedAt,
    dueAt: stored.dueAt,
    claimedBy: stored.claimedBy ?? null,
    claimedAt: stored.claimedAt ?? null,
    sentAt: stored.sentAt ?? null,
    listed: stored.listed ?? null,
  };
}

function parseItem<T>(schema: z.ZodType<T>, item: Record<string, unknown>): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new LedgerError(
    `corrupt ledger item ${quote(item.pk)}/${quote(item.sk)}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
  );
}

function toRecord(item: Record<string, unknown>): InstanceRecord {
  const stored = parseItem(InstanceItem, item);
  const active = stored.active;
  return {
    instanceId: stored.instanceId,
    episode: stored.episode,
    active:
      active === undefined
        ? null
        : {
            episode: stored.episode,
            kinds: active.kinds,
            executionName: executionName(stored.instanceId, stored.episode),
            mode: active.mode,
            claimedAt: active.claimedAt,
            expiresAt: active.expiresAt,
            runId: active.runId,
          },
    lastClosed: stored.lastClosed ?? null,
    cooldownUntil: stored.cooldownUntil ?? null,
    suppressedUntil: stored.suppressedUntil ?? null,
    consecutiveFailures: stored.consecutiveFailures ?? 0,
    escalated: stored.escalated ?? false,
  };
}

function toApproval(item: Record<string, unknown>): Approval {
  const stored = parseItem(ApprovalItem, item);
  const { plan, ...request } = stored.request;
  return {
    ...request,
    plan: readJson(plan),
    status: stored.status,
    decidedBy: stored.decidedBy,
    decidedAt: stored.decidedAt,
  };
}

/** What holds an instance at `now`, if anything: an unexpired claim first, then a cooldown, a suppression. */
function blockerAt(record: InstanceRecord, now: string): 'active' | 'cooldown' | 'suppressed' | null {
  if (record.active !== null && record.active.expiresAt >= now) return 'active';
  if (record.cooldownUntil !== null && record.cooldownUntil >= now) return 'cooldown';
  if (record.suppressedUntil !== null && record.suppressedUntil >= now) return 'suppressed';
  return null;
}

// --- Expressions ------------------------------------------------------------------------------------

/** `#name` placeholders for every attribute the expressions name (many are reserved words). */
function attributeNames(...expressions: string[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const match of expressions.join(' ').matchAll(/#(\w+)/g)) names[match[0]] = match[1] ?? '';
  return names;
}

/** The values the expressions use, and only those (DynamoDB refuses unused ones). */
function attributeValues(values: Record<string, unknown>, ...expressions: string[]): Record<string, unknown> {
  const used: Record<string, unknown> = {};
  for (const match of expressions.join(' ').matchAll(/:(\w+)/g)) {
    const name = match[0];
    if (!(name in values)) throw new Error(`no value for ${name}`);
    used[name] = values[name];
  }
  return used;
}

/** An UpdateItem input from its expressions, with names and values filled in. */
function update(
  key: Record<string, string>,
  expressions: { readonly update: string; readonly condition?: string },
  values: Record<string, unknown>,
  returnValues: UpdateCommandInput['ReturnValues'] = 'NONE',
): Omit<UpdateCommandInput, 'TableName'> {
  const texts = [expressions.update, expressions.condition ?? ''];
  const used = attributeValues(values, ...texts);
  return {
    Key: key,
    UpdateExpression: expressions.update,
    ...(expressions.condition === undefined ? {} : { ConditionExpression: expressions.condition }),
    ExpressionAttributeNames: attributeNames(...texts),
    ...(Object.keys(used).length === 0 ? {} : { ExpressionAttributeValues: used }),
    ReturnValues: returnValues,
  };
}

// --- Requests, checked before anything is written ------------------------------------------------

function requireInstanceId(value: string): void {
  if (!isInstanceId(value)) throw new InvalidLedgerRequestError(`not an EC2 instance id: ${quote(value)}`);
}

function requireInstant(name: string, value: string | null): void {
  if (value === null) return;
  if (typeof value !== 'string' || !INSTANT.test(value) || new Date(value).toISOString() !== value) {
    throw new InvalidLedgerRequestError(
      `${name} is not an instant as YYYY-MM-DDTHH:MM:SS.sssZ: ${quote(value)}`,
    );
  }
}

function requireKeyPart(name: string, value: string): void {
  if (typeof value !== 'string' || !KEY_PART.test(value)) {
    throw new InvalidLedgerRequestError(
      `${name} must be 1 to 256 printable ASCII characters: ${quote(value)}`,
    );
  }
}

function requireEpisode(value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidLedgerRequestError(`not an episode number: ${quote(value)}`);
  }
}

function requireOneOf<T extends string>(name: string, allowed: readonly T[], value: T): void {
  if (!allowed.includes(value)) throw new InvalidLedgerRequestError(`unknown ${name}: ${quote(value)}`);
}

const epochSeconds = (instant: string): number => Math.ceil(Date.parse(instant) / 1000);
const instanceKey = (instanceId: string) => ({ pk: `instance#${instanceId}`, sk: CURRENT });
const counterKey = (key: string) => ({ pk: `counter#${key}`, sk: CURRENT });
const approvalKey = (approvalId: string) => ({ pk: `approval#${approvalId}`, sk: CURRENT });
const digestKey = (runId: string, round: number) => ({
  pk: `digest#${runId}`,
  sk: `round#${String(round).padStart(3, '0')}`,
});

function requireRunId(value: string): void {
  if (typeof value !== 'string' || !RUN_ID.test(value))
    throw new InvalidLedgerRequestError(`not a run id (1 to 64 letters, digits or dashes): ${quote(value)}`);
}

function requireRound(value: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_DIGEST_ROUNDS)
    throw new InvalidLedgerRequestError(`not a digest round (1 to ${MAX_DIGEST_ROUNDS}): ${quote(value)}`);
}

const CONDITION_FAILED = Symbol('condition failed');
type ConditionFailed = typeof CONDITION_FAILED;

/** Options of the DynamoDB ledger. */
export interface DynamoDbLedgerOptions {
  readonly tableName: string;
  readonly clock: Clock;
  readonly retry?: Partial<RetryPolicy>;
  /** Items per Query page (`Limit`); unset: DynamoDB's 1 MB pages. */
  readonly pageSize?: number;
}

/** DynamoDB adapter of the remediation ledger. */
export class DynamoDbLedger implements Ledger {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retry: RetryPolicy;
  readonly #pageSize: number | undefined;

  constructor(client: DynamoDBClient, options: DynamoDbLedgerOptions) {
    // The document client marshals plain values; it shares the client's middleware and connections.
    this.#documents = DynamoDBDocumentClient.from(client);
    this.#tableName = options.tableName;
    this.#retry = retryPolicy(options.clock, options.retry);
    this.#pageSize = options.pageSize;
  }

  async record(instanceId: string, signal: AbortSignal): Promise<InstanceRecord | null> {
    requireInstanceId(instanceId);
    const item = await this.#get('record', instanceKey(instanceId), signal);
    return item === undefined ? null : toRecord(item);
  }

  async claim(request: ClaimRequest, signal: AbortSignal): Promise<ClaimResult> {
    requireInstanceId(request.instanceId);
    requireOneOf('finding kind', FINDING_KINDS, request.kind);
    requireOneOf('mode', REMEDIATION_MODES, request.mode);
    requireInstant('now', request.now);
    requireInstant('expiresAt', request.expiresAt);
    if (request.expiresAt <= request.now) {
      throw new InvalidLedgerRequestError(
        `a claim must expire after now: ${request.expiresAt} ≤ ${request.now}`,
      );
    }
    const active = {
      kinds: [request.kind],
      mode: request.mode,
      claimedAt: request.now,
      expiresAt: request.expiresAt,
      runId: boundedLine(request.runId, LEDGER_LIMITS.nameBytes),
    };
    const claim = update(
      instanceKey(request.instanceId),
      {
        update:
          'SET #instanceId = :instanceId, #episode = if_not_exists(#episode, :zero) + :one, #active = :active',
        condition:
          '(attribute_not_exists(#active) OR #active.#expiresAt < :now)' +
          ' AND (attribute_not_exists(#cooldownUntil) OR #cooldownUntil < :now)' +
          ' AND (attribute_not_exists(#suppressedUntil) OR #suppressedUntil < :now)',
      },
      { ':instanceId': request.instanceId, ':zero': 0, ':one': 1, ':active': active, ':now': request.now },
      // The item as it was: the update is known, so the new record follows, and an expired claim it
      // overwrote is right there (ALL_NEW would lose it).
      'ALL_OLD',
    );
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt += 1) {
      const before = await this.#update('claim', claim, signal);
      if (before !== CONDITION_FAILED) {
        const old = before === undefined ? null : toRecord(before);
        const episode = (old?.episode ?? 0) + 1;
        const opened: ActiveEpisode = {
          ...active,
          episode,
          executionName: executionName(request.instanceId, episode),
        };
        return {
          claimed: true,
          episode,
          executionName: opened.executionName,
          displaced: old?.active ?? null,
          record: { ...(old ?? neverSeen(request.instanceId)), episode, active: opened },
        };
      }
      const record = await this.record(request.instanceId, signal);
      const blockedBy = record === null ? null : blockerAt(record, request.now);
      if (record !== null && blockedBy !== null) return { claimed: false, blockedBy, record };
      // The blocker went away between the write and the read (closed meanwhile): try again.
    }
    throw new LedgerError(
      `claim of ${request.instanceId} kept failing its condition with nothing holding it (${CLAIM_ATTEMPTS} attempts)`,
    );
  }

  async join(instanceId: string, episode: number, kind: FindingKind, signal: AbortSignal): Promise<boolean> {
    requireInstanceId(instanceId);
    requireEpisode(episode);
    requireOneOf('finding kind', FINDING_KINDS, kind);
    const joined = await this.#update(
      'join',
      update(
        instanceKey(instanceId),
        {
          update: 'SET #active.#kinds = list_append(#active.#kinds, :kinds)',
          condition:
            'attribute_exists(#active) AND #episode = :episode AND NOT contains(#active.#kinds, :kind)',
        },
        { ':kinds': [kind], ':kind': kind, ':episode': episode },
      ),
      signal,
    );
    if (joined !== CONDITION_FAILED) return true;
    // Already joined, or the episode is over.
    const record = await this.record(instanceId, signal);
    return record?.active?.episode === episode;
  }

  async close(request: CloseRequest, signal: AbortSignal): Promise<boolean> {
    requireInstanceId(request.instanceId);
    requireEpisode(request.episode);
    requireOneOf('outcome', EPISODE_OUTCOMES, request.outcome);
    requireInstant('at', request.at);
    requireInstant('cooldownUntil', request.cooldownUntil);
    requireInstant('suppressedUntil', request.suppressedUntil);
    const set = [
      '#lastClosed = :lastClosed',
      request.failed
        ? '#consecutiveFailures = if_not_exists(#consecutiveFailures, :zero) + :one'
        : '#consecutiveFailures = :zero',
    ];
    const remove = ['#active'];
    if (request.cooldownUntil === null) remove.push('#cooldownUntil');
    else set.push('#cooldownUntil = :cooldownUntil');
    if (request.suppressedUntil === null) remove.push('#suppressedUntil');
    else set.push('#suppressedUntil = :suppressedUntil');
    // Only an operator clears an escalation.
    if (request.escalated) set.push('#escalated = :true');
    const closed = await this.#update(
      'close',
      update(
        instanceKey(request.instanceId),
        {
          update: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
          condition: 'attribute_exists(#active) AND #episode = :episode',
        },
        {
          ':lastClosed': {
            episode: request.episode,
            outcome: request.outcome,
            closedAt: request.at,
            reason: boundedLine(request.reason, LEDGER_LIMITS.lineBytes),
          },
          ':zero': 0,
          ':one': 1,
          ':true': true,
          ':episode': request.episode,
          ':cooldownUntil': request.cooldownUntil,
          ':suppressedUntil': request.suppressedUntil,
        },
      ),
      signal,
    );
    return closed !== CONDITION_FAILED;
  }

  async append(event: LedgerEvent, signal: AbortSignal): Promise<void> {
    requireInstanceId(event.instanceId);
    requireKeyPart('eventId', event.eventId);
    requireInstant('at', event.at);
    requireOneOf('event type', EVENT_TYPES, event.type);
    if (event.episode !== null) requireEpisode(event.episode);
    const pk = instanceKey(event.instanceId).pk;
    // The first write of an event id fixes its instant, so a retry stamped later is still the same item.
    const marker = { pk, sk: `eventid#${event.eventId}` };
    let at = event.at;
    const first = await this.#put('append', { Item: { ...marker, at }, ...ifAbsent }, signal);
    if (first === CONDITION_FAILED) {
      const existing = await this.#get('append', marker, signal);
      at = typeof existing?.at === 'string' && INSTANT.test(existing.at) ? existing.at : at;
    }
    const item = {
      pk,
      sk: `${EVENT_PREFIX}${at}#${event.eventId}`,
      instanceId: event.instanceId,
      eventId: event.eventId,
      at,
      type: event.type,
      episode: event.episode,
      summary: boundedLine(event.summary, LEDGER_LIMITS.lineBytes),
      detail: boundedJson(event.detail, LEDGER_LIMITS.detailBytes),
    };
    // A repeat (or the retry of a write cut short after the marker) finds the item there: a no-op.
    await this.#put('append', { Item: item, ...ifAbsent }, signal);
  }

  async events(instanceId: string, signal: AbortSignal): Promise<LedgerEvent[]> {
    requireInstanceId(instanceId);
    const events: LedgerEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#query(
        'events',
        {
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': instanceKey(instanceId).pk, ':prefix': EVENT_PREFIX },
          ConsistentRead: true,
          ScanIndexForward: true,
          ...(this.#pageSize === undefined ? {} : { Limit: this.#pageSize }),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        },
        signal,
      );
      for (const item of page.Items ?? []) {
        const stored = parseItem(EventItem, item);
        events.push({ ...stored, detail: readJson(stored.detail) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return events;
  }

  async increment(
    key: string,
    limit: number,
    expiresAt: string,
    signal: AbortSignal,
  ): Promise<{ readonly counted: boolean; readonly count: number }> {
    requireKeyPart('counter key', key);
    requireInstant('expiresAt', expiresAt);
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidLedgerRequestError(`a counter limit is a whole number ≥ 0: ${quote(limit)}`);
    }
    const current = async () => {
      const item = await this.#get('increment', counterKey(key), signal);
      return { counted: false, count: typeof item?.count === 'number' ? item.count : 0 };
    };
    // A missing counter passes `attribute_not_exists`: a limit of 0 must not count its first one.
    if (limit === 0) return current();
    const counted = await this.#update(
      'increment',
      update(
        counterKey(key),
        {
          update: 'ADD #count :one SET #expiresAt = :ttl',
          condition: 'attribute_not_exists(#count) OR #count < :limit',
        },
        { ':one': 1, ':ttl': epochSeconds(expiresAt), ':limit': limit },
        'UPDATED_NEW',
      ),
      signal,
    );
    if (counted === CONDITION_FAILED) return current();
    return { counted: true, count: Number(counted?.count) };
  }

  async breaker(signal: AbortSignal): Promise<BreakerState> {
    const item = await this.#get('breaker', BREAKER_KEY, signal);
    const stored = item === undefined ? {} : parseItem(BreakerItem, item);
    const open = stored.open ?? false;
    return {
      open,
      reason: open ? (stored.reason ?? null) : null,
      openedAt: open ? (stored.openedAt ?? null) : null,
      consecutiveFailures: stored.consecutiveFailures ?? 0,
    };
  }

  async tripBreaker(reason: string, at: string, signal: AbortSignal): Promise<boolean> {
    requireInstant('at', at);
    const opened = await this.#update(
      'tripBreaker',
      update(
        BREAKER_KEY,
        {
          update: 'SET #open = :true, #reason = :reason, #openedAt = :at',
          condition: 'attribute_not_exists(#open) OR #open = :false',
        },
        {
          ':true': true,
          ':false': false,
          ':reason': boundedLine(reason, LEDGER_LIMITS.lineBytes),
          ':at': at,
        },
      ),
      signal,
    );
    return opened !== CONDITION_FAILED;
  }

  async resetBreaker(at: string, by: string, signal: AbortSignal): Promise<boolean> {
    requireInstant('at', at);
    // Unconditional, returning the old state: of two concurrent resets exactly one saw it open.
    const before = await this.#update(
      'resetBreaker',
      update(
        BREAKER_KEY,
        {
          update:
            'SET #open = :false, #consecutiveFailures = :zero, #resetAt = :at, #resetBy = :by REMOVE #reason, #openedAt',
        },
        { ':false': false, ':zero': 0, ':at': at, ':by': boundedLine(by, LEDGER_LIMITS.nameBytes) },
        'UPDATED_OLD',
      ),
      signal,
    );
    return before !== CONDITION_FAILED && before?.open === true;
  }

  async recordFleetOutcome(failed: boolean, signal: AbortSignal): Promise<number> {
    const updated = await this.#update(
      'recordFleetOutcome',
      failed
        ? update(BREAKER_KEY, { update: 'ADD #consecutiveFailures :one' }, { ':one': 1 }, 'UPDATED_NEW')
        : update(BREAKER_KEY, { update: 'SET #consecutiveFailures = :zero' }, { ':zero': 0 }, 'UPDATED_NEW'),
      signal,
    );
    return updated === CONDITION_FAILED ? 0 : Number(updated?.consecutiveFailures ?? 0);
  }

  async clearEscalation(instanceId: string, signal: AbortSignal): Promise<void> {
    requireInstanceId(instanceId);
    // An instance never seen gets no item.
    await this.#update(
      'clearEscalation',
      update(
        instanceKey(instanceId),
        { update: 'SET #escalated = :false', condition: 'attribute_exists(#pk)' },
        { ':false': false },
      ),
      signal,
    );
  }

  /**
   * Stores a pending approval. Writing it again while it is pending replaces it (a retried task brings a
   * new token); once decided it is kept as it is.
   */
  async putApproval(approval: Approval, signal: AbortSignal): Promise<void> {
    requireKeyPart('approvalId', approval.approvalId);
    requireInstanceId(approval.instanceId);
    requireEpisode(approval.episode);
    requireKeyPart('executionName', approval.executionName);
    requireInstant('requestedAt', approval.requestedAt);
    requireInstant('expiresAt', approval.expiresAt);
    if (approval.status !== 'pending' || approval.decidedBy !== null || approval.decidedAt !== null) {
      throw new InvalidLedgerRequestError(
        `approval ${approval.approvalId} must be stored pending and undecided`,
      );
    }
    if (
      typeof approval.taskToken !== 'string' ||
      approval.taskToken.length === 0 ||
      approval.taskToken.length > LEDGER_LIMITS.taskTokenChars ||
      boundedLine(approval.taskToken, LEDGER_LIMITS.taskTokenChars * 4) !== approval.taskToken
    ) {
      // A cut or rewritten token would never resume the execution: refuse it instead.
      throw new InvalidLedgerRequestError(
        `approval ${approval.approvalId}: the task token is not a valid token`,
      );
    }
    await this.#put(
      'putApproval',
      {
        Item: {
          ...approvalKey(approval.approvalId),
          expiresAt: epochSeconds(approval.expiresAt) + APPROVAL_RETENTION_SECONDS,
          status: 'pending',
          decidedBy: null,
          decidedAt: null,
          request: {
            approvalId: approval.approvalId,
            instanceId: approval.instanceId,
            episode: approval.episode,
            executionName: approval.executionName,
            taskToken: approval.taskToken,
            requestedAt: approval.requestedAt,
            expiresAt: approval.expiresAt,
            plan: boundedJson(approval.plan, LEDGER_LIMITS.planBytes),
          },
        },
        ConditionExpression: 'attribute_not_exists(#pk) OR #status = :pending',
        ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending' },
      },
      signal,
    );
  }

  async approval(approvalId: string, signal: AbortSignal): Promise<Approval | null> {
    requireKeyPart('approvalId', approvalId);
    const item = await this.#get('approval', approvalKey(approvalId), signal);
    return item === undefined ? null : toApproval(item);
  }

  /** Decides a pending approval once, and only before it expires; null otherwise. */
  async decideApproval(
    approvalId: string,
    decision: 'approved' | 'denied',
    by: string,
    at: string,
    signal: AbortSignal,
  ): Promise<Approval | null> {
    requireKeyPart('approvalId', approvalId);
    requireOneOf('decision', ['approved', 'denied'], decision);
    requireInstant('at', at);
    const decided = await this.#update(
      'decideApproval',
      update(
        approvalKey(approvalId),
        {
          update: 'SET #status = :decision, #decidedBy = :by, #decidedAt = :at',
          condition: '#status = :pending AND #request.#expiresAt > :at',
        },
        {
          ':decision': decision,
          ':by': boundedLine(by, LEDGER_LIMITS.nameBytes),
          ':at': at,
          ':pending': 'pending',
        },
        'ALL_NEW',
      ),
      signal,
    );
    return decided === CONDITION_FAILED || decided === undefined ? null : toApproval(decided);
  }

  async registerForDigest(
    runId: string,
    approvalId: string,
    now: string,
    dueAt: string,
    signal: AbortSignal,
  ): Promise<DigestRound | null> {
    requireRunId(runId);
    requireKeyPart('approvalId', approvalId);
    requireInstant('now', now);
    requireInstant('dueAt', dueAt);
    for (let round = 1; round <= MAX_DIGEST_ROUNDS; round += 1) {
      // Open (not claimed) or already holding this approval (a retried step): never in two rounds.
      const added = await this.#update(
        'registerForDigest',
        update(
          digestKey(runId, round),
          {
            update:
              'ADD #approvalIds :ids SET #runId = :run, #round = :round, #openedAt = if_not_exists(#openedAt, :now), #dueAt = if_not_exists(#dueAt, :due), #expiresAt = :ttl',
            condition: 'attribute_not_exists(#claimedBy) OR contains(#approvalIds, :id)',
          },
          {
            ':ids': new Set([approvalId]),
            ':id': approvalId,
            ':run': runId,
            ':round': round,
            ':now': now,
            ':due': dueAt,
            ':ttl': epochSeconds(dueAt) + DIGEST_RETENTION_SECONDS,
          },
          'ALL_NEW',
        ),
        signal,
      );
      if (added !== CONDITION_FAILED && added !== undefined) return toDigestRound(added);
    }
    return null;
  }

  async digestRounds(runId: string, signal: AbortSignal): Promise<DigestRound[]> {
    requireRunId(runId);
    const rounds: DigestRound[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#query(
        'digestRounds',
        {
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': `digest#${runId}` },
          ConsistentRead: true,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        },
        signal,
      );
      for (const item of page.Items ?? []) rounds.push(toDigestRound(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return rounds.sort((a, b) => a.round - b.round);
  }

  async claimDigest(
    runId: string,
    round: number,
    claimant: string,
    at: string,
    signal: AbortSignal,
  ): Promise<DigestRound | null> {
    requireRunId(runId);
    requireRound(round);
    requireKeyPart('claimant', claimant);
    requireInstant('at', at);
    // The claimant's own retry may claim again until it has sent; nobody else may.
    const claimed = await this.#update(
      'claimDigest',
      update(
        digestKey(runId, round),
        {
          update: 'SET #claimedBy = :me, #claimedAt = if_not_exists(#claimedAt, :at)',
          condition:
            'attribute_exists(#pk) AND contains(#approvalIds, :me) AND (attribute_not_exists(#claimedBy) OR (#claimedBy = :me AND attribute_not_exists(#sentAt)))',
        },
        { ':me': claimant, ':at': at },
        'ALL_NEW',
      ),
      signal,
    );
    return claimed === CONDITION_FAILED || claimed === undefined ? null : toDigestRound(claimed);
  }

  async markDigestSent(
    runId: string,
    round: number,
    claimant: string,
    at: string,
    listed: number,
    signal: AbortSignal,
  ): Promise<void> {
    requireRunId(runId);
    requireRound(round);
    requireKeyPart('claimant', claimant);
    requireInstant('at', at);
    if (!Number.isSafeInteger(listed) || listed < 0)
      throw new InvalidLedgerRequestError(`a count of listed approvals is a whole number: ${quote(listed)}`);
    const marked = await this.#update(
      'markDigestSent',
      update(
        digestKey(runId, round),
        {
          update: 'SET #sentAt = if_not_exists(#sentAt, :at), #listed = if_not_exists(#listed, :listed)',
          condition: '#claimedBy = :me',
        },
        { ':me': claimant, ':at': at, ':listed': listed },
      ),
      signal,
    );
    if (marked === CONDITION_FAILED)
      throw new LedgerError(`digest round ${round} of run ${runId} is not claimed by ${claimant}`);
  }

  // --- One DynamoDB call each: retried on the clock, a failed condition as a value, errors typed ---

  async #get(
    operation: string,
    key: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown> | undefined> {
    const input: GetCommandInput = { TableName: this.#tableName, Key: key, ConsistentRead: true };
    const output = await this.#call(
      operation,
      key,
      () => this.#documents.send(new GetCommand(input), { abortSignal: signal }),
      signal,
    );
    return output === CONDITION_FAILED ? undefined : output.Item;
  }

  async #put(
    operation: string,
    input: Omit<PutCommandInput, 'TableName'>,
    signal: AbortSignal,
  ): Promise<ConditionFailed | undefined> {
    const output = await this.#call(
      operation,
      input.Item as Record<string, unknown>,
      () =>
        this.#documents.send(new PutCommand({ ...input, TableName: this.#tableName }), {
          abortSignal: signal,
        }),
      signal,
    );
    return output === CONDITION_FAILED ? output : undefined;
  }

  async #update(
    operation: string,
    input: Omit<UpdateCommandInput, 'TableName'>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown> | undefined | ConditionFailed> {
    const output = await this.#call(
      operation,
      input.Key as Record<string, unknown>,
      () =>
        this.#documents.send(new UpdateCommand({ ...input, TableName: this.#tableName }), {
          abortSignal: signal,
        }),
      signal,
    );
    return output === CONDITION_FAILED ? output : output.Attributes;
  }

  async #query(
    operation: string,
    input: Omit<QueryCommandInput, 'TableName'>,
    signal: AbortSignal,
  ): Promise<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }> {
    const output = await this.#call(
      operation,
      input.ExpressionAttributeValues ?? {},
      () =>
        this.#documents.send(new QueryCommand({ ...input, TableName: this.#tableName }), {
          abortSignal: signal,
        }),
      signal,
    );
    if (output === CONDITION_FAILED)
      throw new LedgerError(`ledger ${operation}: a query has no condition to fail`);
    return output;
  }

  async #call<Output>(
    operation: string,
    subject: Record<string, unknown>,
    send: () => Promise<Output>,
    signal: AbortSignal,
  ): Promise<Output | ConditionFailed> {
    try {
      return await withRetry(operation, send, this.#retry, signal);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return CONDITION_FAILED;
      // The deadline's abort is the caller's to handle as it is.
      if (signal.aborted) throw error;
      const where = quote(subject.pk ?? subject[':pk'] ?? '', 120);
      throw new LedgerError(`ledger ${operation} on ${where} failed: ${describeError(error)}`, {
        cause: error,
      });
    }
  }
}

const ifAbsent = {
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': 'pk' },
} as const;

function neverSeen(instanceId: string): InstanceRecord {
  return {
    instanceId,
    episode: 0,
    active: null,
    lastClosed: null,
    cooldownUntil: null,
    suppressedUntil: null,
    consecutiveFailures: 0,
    escalated: false,
  };
}

/** `Name: first line of the message`, bounded: SDK messages can be long or carry the service's text. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return quote(error);
  return boundedLine(`${error.name}: ${error.message.split('\n')[0] ?? ''}`, 300);
}
