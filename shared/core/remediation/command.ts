/**
 * The SSM Run Command protocol, decided in pure code: what a GetCommandInvocation answer means for a
 * document's run, when to poll again, when to retry a busy or deferred run, and which earlier command a
 * re-send must adopt. Decided from SSM's status AND the script's own JSON (`status`, `exitCode`): exit
 * codes 3 and 4 arrive as SSM `Failed`, and output that is not one JSON object proves nothing.
 */

/** The three documents a workflow sends, by the step they serve. */
export const COMMAND_STEPS = ['diagnose', 'patch', 'restart'] as const;
export type CommandStep = (typeof COMMAND_STEPS)[number];

/** What a command came to. */
export const COMMAND_OUTCOMES = [
  /** still running: poll again */
  'pending',
  /** the script did its job (including check mode, already compliant, nothing to do) */
  'succeeded',
  /** patch: another run holds the lock */
  'busy',
  /** restart: processes hold the mount; nothing changed */
  'deferred',
  /** the script would not touch what it found (malformed file, not s3fs, ...); nothing changed */
  'refused',
  /** the script failed (patch: previous file restored; restart: a mount missing — a suspected outage) */
  'failed',
  /** the parameters did not pass the script's own checks */
  'bad-parameters',
  /** the agent never got it, or the instance went away */
  'undeliverable',
  'delivery-timed-out',
  /** the script ran past TimeoutSeconds */
  'timed-out',
  'cancelled',
  /** no proof either way: output that is not the script's JSON, a status SSM does not document */
  'inconclusive',
] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

/** Outcomes that say nothing about the instance: the command did not (provably) run there. */
export const DELIVERY_OUTCOMES: readonly CommandOutcome[] = ['undeliverable', 'delivery-timed-out'];

/** The fields of GetCommandInvocation's answer that matter. */
export interface InvocationView {
  readonly Status?: string | undefined;
  readonly StatusDetails?: string | undefined;
  readonly ResponseCode?: number | undefined;
  readonly StandardOutputContent?: string | undefined;
}

export interface Interpretation {
  readonly outcome: CommandOutcome;
  /** The script's `status`, when its output was its JSON. */
  readonly scriptStatus: string | null;
  /** The script's exit code (SSM's ResponseCode), when it ran. */
  readonly exitCode: number | null;
  /** The script's JSON output, when there was one. */
  readonly output: Readonly<Record<string, unknown>> | null;
  readonly reason: string;
}

// What each script's `status` means (shared/ssm/README.md).
const SCRIPT_STATUSES: Readonly<Record<CommandStep, Readonly<Record<string, CommandOutcome>>>> = {
  diagnose: { ok: 'succeeded', failed: 'failed' },
  patch: {
    alreadyCompliant: 'succeeded',
    patched: 'succeeded',
    notInstalled: 'succeeded',
    nonCompliant: 'succeeded',
    failed: 'failed',
    badParameters: 'bad-parameters',
    busy: 'busy',
    refused: 'refused',
  },
  restart: {
    restarted: 'succeeded',
    checked: 'succeeded',
    nothingToDo: 'succeeded',
    failed: 'failed',
    badParameters: 'bad-parameters',
    deferred: 'deferred',
    refused: 'refused',
  },
};

const PENDING = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
const MAX_REASON = 300;

/** What one GetCommandInvocation answer means for a run of `step`'s document. */
export function interpretInvocation(step: CommandStep, invocation: InvocationView): Interpretation {
  const status = invocation.Status ?? '';
  const details = (invocation.StatusDetails ?? '').replace(/\s+/g, '');
  const none = { scriptStatus: null, exitCode: null, output: null };
  if (PENDING.has(status)) return { outcome: 'pending', ...none, reason: `SSM status ${status}` };
  if (details === 'Undeliverable' || details === 'Terminated') {
    return {
      outcome: 'undeliverable',
      ...none,
      reason: `SSM could not deliver the command (${invocation.StatusDetails})`,
    };
  }
  if (status === 'TimedOut') {
    return details === 'DeliveryTimedOut'
      ? { outcome: 'delivery-timed-out', ...none, reason: 'the command was not delivered before its timeout' }
      : { outcome: 'timed-out', ...none, reason: 'the script ran past its timeout' };
  }
  if (status === 'Cancelled') return { outcome: 'cancelled', ...none, reason: 'the command was cancelled' };
  if (status !== 'Success' && status !== 'Failed') {
    return {
      outcome: 'inconclusive',
      ...none,
      reason: `SSM status ${clip(status || 'missing')} is not one SSM documents`,
    };
  }
  const exitCode = typeof invocation.ResponseCode === 'number' ? invocation.ResponseCode : null;
  const output = parseOutput(invocation.StandardOutputContent);
  if (output === null) {
    return {
      outcome: 'inconclusive',
      scriptStatus: null,
      exitCode,
      output: null,
      reason: `SSM says ${status} (exit ${exitCode ?? '?'}) but the output is not one JSON object`,
    };
  }
  const scriptStatus = typeof output.status === 'string' ? output.status : null;
  const outcome = scriptStatus === null ? undefined : SCRIPT_STATUSES[step][scriptStatus];
  if (scriptStatus === null || outcome === undefined) {
    return {
      outcome: 'inconclusive',
      scriptStatus,
      exitCode,
      output,
      reason: `the ${step} script reported status ${clip(String(output.status))}, which it does not document`,
    };
  }
  // The script prints its own exit code; SSM's must agree, and Success must mean exit 0.
  if (output.exitCode !== exitCode || (status === 'Success') !== (exitCode === 0)) {
    return {
      outcome: 'inconclusive',
      scriptStatus,
      exitCode,
      output,
      reason: `SSM says ${status} with exit ${exitCode ?? '?'}, the script says exit ${clip(String(output.exitCode))}`,
    };
  }
  const said = typeof output.reason === 'string' && output.reason !== '' ? `: ${clip(output.reason)}` : '';
  return { outcome, scriptStatus, exitCode, output, reason: `${step} ${scriptStatus}${said}` };
}

/** The script's output when it is exactly one JSON object (surrounding whitespace aside). */
function parseOutput(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/** Bounds of the polling and retry loops (they keep each execution's history far below 25,000 events). */
export interface CommandLimits {
  /** Polls of one command before it is cancelled. */
  readonly maxPolls: number;
  /** Runs of a command that came back busy or deferred before the workflow gives up and escalates. */
  readonly maxRetries: number;
}

export const DEFAULT_COMMAND_LIMITS: CommandLimits = { maxPolls: 40, maxRetries: 3 };

// First poll a few seconds after sending, then every 5, 10, 15 s, then every 30 s.
const POLL_DELAYS_S = [3, 5, 10, 15, 30];
// busy: another patch is running (seconds); deferred: a writer holds the mount (minutes to an hour).
const RETRY_DELAYS_S: Readonly<Record<'busy' | 'deferred', readonly number[]>> = {
  busy: [60, 300, 900],
  deferred: [600, 1800, 3600],
};

/** When to poll next, or null when `polls` reached the bound (cancel the command). */
export function nextPoll(polls: number, nowMs: number, limits: CommandLimits): string | null {
  if (polls >= limits.maxPolls) return null;
  const delay = POLL_DELAYS_S[Math.min(polls, POLL_DELAYS_S.length - 1)] as number;
  return new Date(nowMs + delay * 1000).toISOString();
}

/** When to run a busy or deferred command again, or null when `retries` reached the bound. */
export function nextRetry(
  outcome: 'busy' | 'deferred',
  retries: number,
  nowMs: number,
  limits: CommandLimits,
): string | null {
  if (retries >= limits.maxRetries) return null;
  const delays = RETRY_DELAYS_S[outcome];
  const delay = delays[Math.min(retries, delays.length - 1)] as number;
  return new Date(nowMs + delay * 1000).toISOString();
}

/** The Comment that names a command: its execution and step (SSM allows 100 characters). */
export function commandComment(executionName: string, step: CommandStep, attempt: number): string {
  return `crawlguard ${executionName} ${step} ${attempt}`.slice(0, 100);
}

/**
 * The earlier command a re-send must adopt instead of sending again: after an ambiguous SendCommand
 * failure the command may have gone out. The newest one with exactly this Comment, or null.
 */
export function adoptEarlier(
  commands: readonly {
    readonly CommandId?: string | undefined;
    readonly Comment?: string | undefined;
    readonly RequestedDateTime?: string | Date | undefined;
  }[],
  comment: string,
): string | null {
  let best: { id: string; at: number } | null = null;
  for (const command of commands) {
    if (command.Comment !== comment || command.CommandId === undefined) continue;
    const at = command.RequestedDateTime === undefined ? 0 : new Date(command.RequestedDateTime).getTime();
    if (best === null || at > best.at) best = { id: command.CommandId, at };
  }
  return best?.id ?? null;
}
