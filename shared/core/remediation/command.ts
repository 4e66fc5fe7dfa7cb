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
    busy: 'busy',
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
    readonly RequestedDateTime?: string | number | Date | undefined;
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

/** One command's run as the run-command workflow carries it from state to state. */
export interface CommandRun {
  readonly instanceId: string;
  readonly step: CommandStep;
  readonly document: { readonly name: string; readonly version: string };
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly executionName: string;
  /** Number in the Comment: 1, then one more per re-send and per retry. */
  readonly attempt: number;
  /** Runs repeated because the last came back busy or deferred. */
  readonly retries: number;
  /** Polls of the current command. */
  readonly polls: number;
  /** The current command was sent again after an ambiguous failure (at most once). */
  readonly resent: boolean;
  /** The current command was cancelled after too many polls. */
  readonly cancelled: boolean;
  readonly command: { readonly commandId: string | null } | null;
  /** What the last step brought (each consumed by {@link trackCommand}). */
  readonly invocation?: InvocationView | null;
  readonly sendError?: { readonly Error?: string; readonly Cause?: string } | null;
  readonly invocationError?: { readonly Error?: string; readonly Cause?: string } | null;
  /** Where the workflow goes next. */
  readonly phase: 'send' | 'poll' | 'retry' | 'cancel' | 'done';
  readonly waitUntil: string | null;
  readonly result: CommandResult | null;
}

/** How a command ended, as the remediation workflow reads it. */
export interface CommandResult extends Interpretation {
  readonly step: CommandStep;
  readonly commandId: string | null;
  readonly attempts: number;
}

/** A run about to be sent for the first time. */
export function newCommandRun(input: {
  readonly instanceId: string;
  readonly step: CommandStep;
  readonly document: { readonly name: string; readonly version: string };
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly executionName: string;
}): CommandRun {
  return {
    ...input,
    attempt: 1,
    retries: 0,
    polls: 0,
    resent: false,
    cancelled: false,
    command: null,
    phase: 'send',
    waitUntil: null,
    result: null,
  };
}

const INVOCATION_PENDING = /InvocationDoesNotExist/;
const POLLS_AFTER_CANCEL = 6;

/**
 * The next phase of a command's run from what the last step brought: poll again (and when), run it again
 * (busy, deferred: within the bound), cancel it (too many polls), or done with its outcome.
 */
export function trackCommand(
  run: CommandRun,
  nowMs: number,
  limits: CommandLimits = DEFAULT_COMMAND_LIMITS,
): CommandRun {
  const { invocation, sendError, invocationError, ...rest } = run;
  const base: CommandRun = { ...rest, invocation: null, sendError: null, invocationError: null };
  const done = (interpretation: Interpretation): CommandRun => ({
    ...base,
    phase: 'done',
    waitUntil: null,
    result: {
      ...interpretation,
      step: run.step,
      commandId: run.command?.commandId ?? null,
      attempts: run.attempt,
    },
  });
  const none = { scriptStatus: null, exitCode: null, output: null };
  const commandId = run.command?.commandId ?? null;
  if (commandId === null) {
    const why = sendError?.Error ?? 'no command id';
    return done({
      outcome: 'undeliverable',
      ...none,
      reason: /InvalidInstanceId/.test(why)
        ? 'SSM cannot reach the instance (InvalidInstanceId: not managed, offline or stopped)'
        : `the command could not be sent (${clip(why)}) and no earlier one was found`,
    });
  }
  const poll = (polls: number): CommandRun => {
    // After a cancel, a few more polls wait for SSM to report the end state.
    const bound = run.cancelled ? { ...limits, maxPolls: limits.maxPolls + POLLS_AFTER_CANCEL } : limits;
    const at = nextPoll(polls, nowMs, bound);
    if (at !== null) return { ...base, polls: polls + 1, phase: 'poll', waitUntil: at };
    if (run.cancelled) {
      return done({
        outcome: 'timed-out',
        ...none,
        reason: `no end state after cancelling and ${polls} polls`,
      });
    }
    return { ...base, cancelled: true, phase: 'cancel', waitUntil: null };
  };
  if (invocationError !== null && invocationError !== undefined) {
    // Right after sending, SSM may not know the invocation yet: that means pending.
    if (INVOCATION_PENDING.test(invocationError.Error ?? '')) return poll(run.polls);
    return run.polls >= limits.maxPolls
      ? done({
          outcome: 'inconclusive',
          ...none,
          reason: `GetCommandInvocation kept failing (${clip(invocationError.Error ?? '?')})`,
        })
      : poll(run.polls);
  }
  if (invocation === null || invocation === undefined) return poll(run.polls);
  const interpretation = interpretInvocation(run.step, invocation);
  if (interpretation.outcome === 'pending') return poll(run.polls);
  if (run.cancelled && interpretation.outcome === 'cancelled') {
    return done({
      ...interpretation,
      outcome: 'timed-out',
      reason: `cancelled after ${run.polls} polls without an end state`,
    });
  }
  // A check reports what it found; only a run that changes something is worth running again.
  const checking = run.parameters.Mode?.[0] === 'check';
  if ((interpretation.outcome === 'busy' || interpretation.outcome === 'deferred') && !checking) {
    const at = nextRetry(interpretation.outcome, run.retries, nowMs, limits);
    if (at === null) return done(interpretation);
    return {
      ...base,
      attempt: run.attempt + 1,
      retries: run.retries + 1,
      polls: 0,
      resent: false,
      cancelled: false,
      command: null,
      phase: 'retry',
      waitUntil: at,
      result: { ...interpretation, step: run.step, commandId, attempts: run.attempt },
    };
  }
  return done(interpretation);
}

/**
 * After SendCommand failed for a reason other than throttling the command may still have gone out: adopt
 * the earlier command with this run's Comment if ListCommands shows one, else send once more (with the
 * same Comment), else give up as undeliverable.
 */
export function adoptCommand(
  run: CommandRun,
  commands: Parameters<typeof adoptEarlier>[0],
  nowMs: number,
  limits: CommandLimits = DEFAULT_COMMAND_LIMITS,
): CommandRun {
  const found = adoptEarlier(commands, commandComment(run.executionName, run.step, run.attempt));
  if (found !== null)
    return trackCommand({ ...run, command: { commandId: found }, sendError: null }, nowMs, limits);
  if (!run.resent) return { ...run, resent: true, sendError: null, phase: 'send', waitUntil: null };
  return trackCommand({ ...run, command: null }, nowMs, limits);
}
