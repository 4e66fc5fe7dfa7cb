/**
 * The life of Run Command invocations on simulated time: each moves through the statuses the service
 * reports (Pending, Delayed, InProgress, then Success, Failed, TimedOut, or Cancelling and Cancelled),
 * runs its script on the instance's {@link SimHost} when delivered, and lands the script's changes on the
 * host at the instants they happen. Nothing happens by itself: {@link InvocationEngine.settle} applies
 * what simulated time has done, in time order, before anything is read.
 */
import type { SsmDocumentName } from '#shared/ssm/build.ts';
import { mix } from '../fleet-model.ts';
import type { ExternalHost, SimHost } from '../host.ts';
import { type Random, seededRandom } from '../random.ts';
import type { DocumentVersion, SimDocument } from './ssm-run-command-documents.ts';
import { runScript, type ScriptRun } from './ssm-run-command-scripts.ts';

export type InvocationStatus =
  | 'Pending'
  | 'Delayed'
  | 'InProgress'
  | 'Success'
  | 'Failed'
  | 'TimedOut'
  | 'Cancelling'
  | 'Cancelled';

export const TERMINAL_STATUSES: ReadonlySet<InvocationStatus> = new Set([
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
]);

/** How an injected fault ends the invocations it matches. */
export type RunCommandFaultOutcome =
  /** Never delivered: Failed, StatusDetails Undeliverable, within a minute. */
  | 'Undeliverable'
  /** Never delivered: TimedOut, DeliveryTimedOut, when the command expires. */
  | 'DeliveryTimedOut'
  /**
   * Delivered; the script hangs at its start until its step's timeout: TimedOut, ExecutionTimedOut,
   * ResponseCode 137, nothing changed (with `leavesUnmounted`, a restart hangs after its umount: an outage).
   */
  | 'ExecutionTimedOut'
  /** The script dies half-way (segfault): Failed, ResponseCode 139, stdout a cut JSON; no change made. */
  | 'FailedGarbage'
  /** Someone else cancels it before it runs: Cancelling, then Cancelled, ResponseCode -1. */
  | 'Cancelled'
  /** Cancelled by the system before delivery (the parent command hit MaxErrors): Failed, Terminated. */
  | 'Terminated'
  /** InvocationDoesNotExist for much longer than usual, then normal. */
  | 'SlowToAppear';

/** Makes the next `times` invocations matching `instanceId` and `document` end as `outcome`. */
export interface RunCommandFault {
  readonly outcome: RunCommandFaultOutcome;
  readonly instanceId?: string;
  /** The document's full (`crawlguard-diagnose`) or short (`diagnose`) name. */
  readonly document?: string;
  times: number;
  /** SlowToAppear: how long the invocation stays unknown (default 45 s). */
  readonly invisibleMs?: number;
  /** ExecutionTimedOut on restart-s3fs: hang after the umount instead of at the start (the mount stays missing). */
  readonly leavesUnmounted?: boolean;
}

/** A fault that hit an invocation, and when a caller first saw its effect. */
export interface InjectedRunCommandFault {
  readonly outcome: RunCommandFaultOutcome;
  readonly commandId: string;
  readonly instanceId: string;
  readonly document: string;
  readonly at: number;
  /**
   * When GetCommandInvocation or ListCommands first returned the fault's terminal status (SlowToAppear:
   * InvocationDoesNotExist past the usual moment); null while nobody has seen it.
   */
  observedAt: number | null;
}

/** What a command sent to CloudWatch Logs (CloudWatchOutputConfig), in full. */
export interface CloudWatchOutputRecord {
  readonly logGroup: string;
  readonly logStream: string;
  readonly at: number;
  readonly text: string;
}

export interface InvocationTransition {
  readonly at: number;
  readonly status: InvocationStatus;
  /** StatusDetails: the status, or Delayed, DeliveryTimedOut, ExecutionTimedOut, Undeliverable, Terminated. */
  readonly details: string;
}

/** A command as sent. */
export interface SimCommand {
  readonly commandId: string;
  readonly document: SimDocument;
  /** As requested (`$DEFAULT` when none was given). */
  readonly documentVersion: string;
  readonly version: DocumentVersion;
  readonly comment: string;
  readonly parameters: Readonly<Record<string, string[]>>;
  /** With the document's defaults filled in. */
  readonly resolved: Readonly<Record<string, string>>;
  readonly requestedAt: number;
  readonly timeoutSeconds: number;
  /** Delivery is given up at TimeoutSeconds plus the step's timeout (the command's ExpiresAfter). */
  readonly expiresAt: number;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly cloudWatchOutputConfig:
    | { readonly CloudWatchLogGroupName?: string; readonly CloudWatchOutputEnabled?: boolean }
    | undefined;
  readonly invocations: SimInvocation[];
}

/** One instance's copy of a command. */
export interface SimInvocation {
  readonly command: SimCommand;
  readonly instanceId: string;
  readonly host: SimHost;
  /** Seeds the invocation's random timings: they do not depend on what else runs. */
  readonly seed: number;
  /** Before this instant GetCommandInvocation answers InvocationDoesNotExist. */
  readonly visibleAt: number;
  readonly fault: RunCommandFault | null;
  /** Status changes so far, in order. */
  readonly history: InvocationTransition[];
  startedAt: number | null;
  endedAt: number | null;
  responseCode: number;
  stdout: string;
  stderr: string;
  /** The script's run, once delivered. */
  run: ScriptRun | null;
  /** When the agent killed the script (cancel, timeout): its later changes never happen. */
  killedAt: number | null;
  cancelRequestedAt: number | null;
  /** Changes the script made to the host, in order (e.g. `umount /srv/media`). */
  readonly applied: string[];
}

interface QueuedEvent {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

// The agent's exit code for a script it stopped (timeout, cancel): 128 + SIGKILL.
const STOPPED_PREEMPTIVELY = 137;
const DELIVERY_RETRY_MS = 30_000;

/** Every command and invocation, their timeline, and the faults waiting to hit them. */
export class InvocationEngine {
  readonly commands: SimCommand[] = [];
  readonly faultLog: InjectedRunCommandFault[] = [];
  readonly cloudWatchLogs: CloudWatchOutputRecord[] = [];
  readonly #byId = new Map<string, SimCommand>();
  readonly #faults: RunCommandFault[] = [];
  readonly #faultOf = new Map<SimInvocation, InjectedRunCommandFault>();
  readonly #queue: QueuedEvent[] = [];
  // Invocations whose script runs now (the patch's lock is held while one of them runs).
  readonly #running = new Set<SimInvocation>();
  readonly #seed: number;
  #seq = 0;

  constructor(seed: number) {
    this.#seed = seed;
  }

  failNext(fault: RunCommandFault): void {
    this.#faults.push(fault);
  }

  /** Applies, in time order, everything that happens up to `nowMs`. */
  settle(nowMs: number): void {
    while (this.#queue.length > 0 && (this.#queue[0] as QueuedEvent).at <= nowMs) {
      (this.#queue.shift() as QueuedEvent).run();
    }
  }

  command(commandId: string): SimCommand | undefined {
    return this.#byId.get(commandId);
  }

  invocation(commandId: string, instanceId: string): SimInvocation | undefined {
    return this.#byId.get(commandId)?.invocations.find((i) => i.instanceId === instanceId);
  }

  /** Registers an accepted command and schedules the delivery of one invocation per target. */
  start(
    command: SimCommand,
    targets: readonly { readonly instanceId: string; readonly host: SimHost }[],
  ): void {
    this.commands.push(command);
    this.#byId.set(command.commandId, command);
    const serial = this.commands.length;
    const now = command.requestedAt;
    targets.forEach(({ instanceId, host }, index) => {
      const fault = this.#takeFault(instanceId, command.document);
      const seed = mix(mix(this.#seed, serial), index);
      const rng = seededRandom(mix(seed, 1));
      const visibleAt =
        now + (fault?.outcome === 'SlowToAppear' ? (fault.invisibleMs ?? 45_000) : rng.uniform(300, 1_200));
      const invocation: SimInvocation = {
        command,
        instanceId,
        host,
        seed,
        visibleAt,
        fault,
        history: [{ at: now, status: 'Pending', details: 'Pending' }],
        startedAt: null,
        endedAt: null,
        responseCode: -1,
        stdout: '',
        stderr: '',
        run: null,
        killedAt: null,
        cancelRequestedAt: null,
        applied: [],
      };
      command.invocations.push(invocation);
      if (fault !== null) {
        const record: InjectedRunCommandFault = {
          outcome: fault.outcome,
          commandId: command.commandId,
          instanceId,
          document: command.document.name,
          at: now,
          observedAt: null,
        };
        this.faultLog.push(record);
        this.#faultOf.set(invocation, record);
      }
      const deliverAt = visibleAt + rng.uniform(300, 1_500);
      if (fault?.outcome === 'Cancelled') {
        const by = visibleAt + (deliverAt - visibleAt) / 2;
        this.#schedule(by, () => this.cancel(invocation, by));
      }
      this.#schedule(deliverAt, () => this.#deliver(invocation, deliverAt));
    });
  }

  /** CancelCommand reaching an invocation at `at`: Cancelling, then Cancelled when the agent kills it. */
  cancel(invocation: SimInvocation, at: number): void {
    if (this.isTerminal(invocation) || invocation.cancelRequestedAt !== null) return;
    invocation.cancelRequestedAt = at;
    this.#move(invocation, at, 'Cancelling', 'Cancelling');
    const killAt = at + this.#rngFor(invocation, 7).uniform(500, 2_000);
    this.#schedule(killAt, () => {
      if (this.isTerminal(invocation)) return;
      // A script that is already running is killed; one that never started is dropped.
      const wasRunning = invocation.startedAt !== null && invocation.startedAt <= killAt;
      invocation.killedAt = killAt;
      this.#running.delete(invocation);
      this.#finish(invocation, killAt, 'Cancelled', 'Cancelled', {
        responseCode: wasRunning ? STOPPED_PREEMPTIVELY : -1,
      });
    });
  }

  /** The invocation's status at `t` (settled up to `t`). */
  statusAt(invocation: SimInvocation, t: number): InvocationTransition {
    let current = invocation.history[0] as InvocationTransition;
    for (const transition of invocation.history) if (transition.at <= t) current = transition;
    return current;
  }

  isTerminal(invocation: SimInvocation): boolean {
    return TERMINAL_STATUSES.has((invocation.history.at(-1) as InvocationTransition).status);
  }

  /** Notes that a caller saw the invocation at `t` (for the fault log's `observedAt`). */
  observe(invocation: SimInvocation, t: number, what: 'status' | 'missing'): void {
    const record = this.#faultOf.get(invocation);
    if (record === undefined || record.observedAt !== null) return;
    const shown =
      what === 'missing'
        ? record.outcome === 'SlowToAppear' && t - invocation.command.requestedAt > 1_500
        : record.outcome !== 'SlowToAppear' &&
          this.isTerminal(invocation) &&
          (invocation.history.at(-1) as InvocationTransition).at <= t;
    if (shown) record.observedAt = t;
  }

  #takeFault(instanceId: string, document: SimDocument): RunCommandFault | null {
    const fault = this.#faults.find(
      (f) =>
        f.times > 0 &&
        (f.instanceId === undefined || f.instanceId === instanceId) &&
        (f.document === undefined || f.document === document.name || f.document === document.short),
    );
    if (fault === undefined) return null;
    fault.times -= 1;
    return fault;
  }

  #schedule(at: number, run: () => void): void {
    const event = { at, seq: this.#seq++, run };
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.#queue[mid] as QueuedEvent;
      if (other.at < at || (other.at === at && other.seq < event.seq)) low = mid + 1;
      else high = mid;
    }
    this.#queue.splice(low, 0, event);
  }

  #rngFor(invocation: SimInvocation, salt = 0): Random {
    return seededRandom(mix(invocation.seed, salt));
  }

  #move(invocation: SimInvocation, at: number, status: InvocationStatus, details: string): void {
    invocation.history.push({ at, status, details });
  }

  #finish(
    invocation: SimInvocation,
    at: number,
    status: InvocationStatus,
    details: string,
    result: { responseCode: number; stdout?: string; stderr?: string },
  ): void {
    if (this.isTerminal(invocation)) return;
    invocation.endedAt = invocation.startedAt === null ? null : at;
    invocation.responseCode = result.responseCode;
    invocation.stdout = result.stdout ?? '';
    invocation.stderr = result.stderr ?? '';
    this.#move(invocation, at, status, details);
    const config = invocation.command.cloudWatchOutputConfig;
    if (config?.CloudWatchOutputEnabled === true && invocation.startedAt !== null) {
      const logGroup = config.CloudWatchLogGroupName ?? `/aws/ssm/${invocation.command.document.name}`;
      const stream = `${invocation.command.commandId}/${invocation.instanceId}/${invocation.command.document.stepName}`;
      for (const [name, text] of [
        ['stdout', invocation.stdout],
        ['stderr', invocation.stderr],
      ] as const) {
        if (text !== '') this.cloudWatchLogs.push({ logGroup, logStream: `${stream}/${name}`, at, text });
      }
    }
  }

  /** The agent receives the invocation at `at` (or cannot: the instance is down, gone, or a fault says so). */
  #deliver(invocation: SimInvocation, at: number): void {
    if (this.isTerminal(invocation) || invocation.cancelRequestedAt !== null) return;
    const { command, host, fault } = invocation;
    const rng = this.#rngFor(invocation);
    const state = host.stateAt(at);
    if (fault?.outcome === 'Undeliverable' || state === 'terminated' || state === 'shutting-down') {
      const gaveUp = at + rng.uniform(20_000, 60_000);
      this.#schedule(gaveUp, () =>
        this.#finish(invocation, gaveUp, 'Failed', 'Undeliverable', { responseCode: -1 }),
      );
      return;
    }
    if (fault?.outcome === 'Terminated') {
      this.#finish(invocation, at, 'Failed', 'Terminated', { responseCode: -1 });
      return;
    }
    if (fault?.outcome === 'DeliveryTimedOut' || !host.isUp(at)) {
      const last = invocation.history.at(-1) as InvocationTransition;
      if (fault?.outcome !== 'DeliveryTimedOut' && last.status !== 'Delayed') {
        this.#move(invocation, at, 'Delayed', 'Delayed');
      }
      const retry = at + DELIVERY_RETRY_MS;
      if (fault?.outcome !== 'DeliveryTimedOut' && retry < command.expiresAt) {
        this.#schedule(retry, () => this.#deliver(invocation, retry));
      } else {
        this.#schedule(command.expiresAt, () =>
          this.#finish(invocation, command.expiresAt, 'TimedOut', 'DeliveryTimedOut', { responseCode: -1 }),
        );
      }
      return;
    }
    this.#move(invocation, at, 'InProgress', 'InProgress');
    const start = at + rng.uniform(50, 300);
    invocation.startedAt = start;
    const short: SsmDocumentName = command.document.short;
    const run =
      host.spec.external === undefined
        ? runScript(short, {
            host,
            at: start,
            rng,
            parameters: command.resolved,
            patchLockHeld: short === 'patch-updatedb-conf' && this.#patchLockHeld(invocation, start),
          })
        : externalRun(host.spec.external, command);
    invocation.run = run;
    this.#running.add(invocation);
    const hangsHere = (host.spec.quirks?.hangs ?? []).includes(short);
    if (fault?.outcome === 'ExecutionTimedOut' || hangsHere) {
      this.#hang(invocation, start, hangsHere || fault?.leavesUnmounted === true ? run.hangAtMs : 0);
    } else if (fault?.outcome === 'FailedGarbage') {
      this.#crash(invocation, start);
    } else {
      this.#complete(invocation, start);
    }
  }

  /** Another patch run on the same host holds the lock at `start` (patch-updatedb-conf.sh's flock). */
  #patchLockHeld(invocation: SimInvocation, start: number): boolean {
    return [...this.#running].some(
      (other) =>
        other !== invocation &&
        other.host === invocation.host &&
        other.command.document.short === 'patch-updatedb-conf' &&
        (other.startedAt ?? Number.POSITIVE_INFINITY) <= start &&
        (other.endedAt ?? Number.POSITIVE_INFINITY) > start &&
        (other.killedAt ?? Number.POSITIVE_INFINITY) > start,
    );
  }

  /** The script runs to its end: its changes land when they happen, then Success or Failed by its exit code. */
  #complete(invocation: SimInvocation, start: number): void {
    const run = invocation.run as ScriptRun;
    const end = start + run.durationMs;
    invocation.endedAt = end;
    this.#scheduleEffects(invocation, start, Number.POSITIVE_INFINITY);
    this.#schedule(end, () => {
      if (invocation.killedAt !== null && invocation.killedAt <= end) return;
      this.#running.delete(invocation);
      const ok = run.exitCode === 0;
      this.#finish(invocation, end, ok ? 'Success' : 'Failed', ok ? 'Success' : 'Failed', {
        responseCode: run.exitCode,
        stdout: run.printed?.stdout ?? `${noisyBanner(invocation.host)}${JSON.stringify(run.output)}\n`,
        stderr:
          run.printed === undefined
            ? ok
              ? ''
              : `failed to run commands: exit status ${run.exitCode}`
            : `${run.printed.stderr}${ok ? '' : `failed to run commands: exit status ${run.exitCode}`}`,
      });
    });
  }

  /** The script hangs `hangAtMs` into its run; the agent kills it at the step's timeout. */
  #hang(invocation: SimInvocation, start: number, hangAtMs: number): void {
    const { command } = invocation;
    const end = start + command.document.stepTimeoutSeconds * 1000;
    invocation.endedAt = end;
    this.#scheduleEffects(invocation, start, hangAtMs);
    this.#schedule(end, () => {
      invocation.killedAt = end;
      this.#running.delete(invocation);
      this.#finish(invocation, end, 'TimedOut', 'ExecutionTimedOut', {
        responseCode: STOPPED_PREEMPTIVELY,
        stderr: `Command execution timed out after ${command.document.stepTimeoutSeconds} seconds\nfailed to run commands: signal: killed`,
      });
    });
  }

  /** The script dies half-way through printing its JSON; it changed nothing. */
  #crash(invocation: SimInvocation, start: number): void {
    const { command, host } = invocation;
    const run = invocation.run as ScriptRun;
    const end = start + run.durationMs * 0.6;
    invocation.endedAt = end;
    const json = JSON.stringify(run.output);
    this.#schedule(end, () => {
      this.#running.delete(invocation);
      const script = `/var/lib/amazon/ssm/${invocation.instanceId}/document/orchestration/${command.commandId}/${command.document.stepName}/_script.sh`;
      this.#finish(invocation, end, 'Failed', 'Failed', {
        responseCode: 139,
        stdout: `${json.slice(0, Math.floor(json.length * 0.6))}\n`,
        stderr: `bash: line 1: ${host.allocatePid()} Segmentation fault (core dumped) ${script}\nfailed to run commands: exit status 139`,
      });
    });
  }

  #scheduleEffects(invocation: SimInvocation, start: number, hangAtMs: number): void {
    for (const effect of invocation.run?.effects ?? []) {
      if (effect.offsetMs >= hangAtMs) break;
      const at = start + effect.offsetMs;
      this.#schedule(at, () => {
        if (invocation.killedAt !== null && invocation.killedAt <= at) return;
        effect.apply(at);
        invocation.applied.push(effect.label);
      });
    }
  }
}

/**
 * The script run for real on an external host (HostSpec.external): its exit code and what it printed;
 * its changes are on the real machine, none on the model. `output` is its last stdout line parsed, or
 * null when that is not JSON (the caller reads stdout as the service would show it).
 */
function externalRun(external: ExternalHost, command: SimCommand): ScriptRun {
  const result = external.runShellScript({
    commandId: command.commandId,
    documentName: command.document.name,
    content: command.version.content,
    parameters: command.resolved,
  });
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  let output: unknown = null;
  try {
    output = JSON.parse(last);
  } catch {
    // Not JSON: stdout is shown as printed, and the workflow's parser says what is wrong with it.
  }
  return {
    exitCode: result.exitCode,
    output: output as ScriptRun['output'],
    durationMs: Math.max(1, result.durationMs),
    effects: [],
    hangAtMs: Number.POSITIVE_INFINITY,
    printed: { stdout: result.stdout, stderr: result.stderr },
  };
}

/** What a login script on a noisy host prints before anything else ('' on a quiet host). */
function noisyBanner(host: SimHost): string {
  const noisy = host.spec.quirks?.noisyShell;
  if (typeof noisy === 'string') return noisy;
  if (noisy !== true) return '';
  return `Welcome to ${host.distro.osPrettyName} (GNU/Linux ${host.distro.kernel})\n\n * Support: https://example.com/it-helpdesk\n\n`;
}
