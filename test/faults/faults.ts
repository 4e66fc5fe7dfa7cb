/**
 * The remediation pipeline under injected faults, in apply mode, on the local stack: a fleet of modelled
 * hosts is scanned (fleet-scan, then scan-worker on every shard), every finding goes to the gate (twice,
 * some concurrently), the workflows run against an SSM Run Command that throttles, never delivers, times
 * out, cancels, answers garbage and hides invocations, and a workflow-step Lambda that times out after
 * doing its work; then scan runs that ask for too much trip the breaker, which an operator resets. What
 * counts is what the ledger and the fake's request log say afterwards.
 */
import { type LocalStack, startLocalStack } from '#shared/local/stack.ts';
import { resetBreaker } from '#shared/remediation/operator.ts';
import { ssmError } from '#shared/sim/aws/ssm.ts';
import type { RunCommandFaultOutcome } from '#shared/sim/aws/ssm-run-command-invocations.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import { SIMULATED_ACCOUNT, SIMULATED_REGION } from '#shared/sim/fleet-model.ts';
import { faultHosts } from '#shared/sim/host-rosters.ts';

export interface FaultRunOptions {
  readonly hosts: number;
  readonly seed: number;
  /** Faults injected per class (each must reach a caller). */
  readonly perClass: number;
  /** Daily scans in all (the first one's findings are the ones counted). */
  readonly days: number;
  readonly onProgress?: (line: string) => void;
}

/** The SSM statuses a command can end in, injected on purpose. */
const SSM_FAULTS: readonly RunCommandFaultOutcome[] = [
  'Undeliverable',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'FailedGarbage',
  'Cancelled',
  'Terminated',
  'SlowToAppear',
];

export interface FaultRun {
  readonly findings: number;
  readonly eligible: number;
  readonly injected: number;
  readonly remediated: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly ledgerComplete: boolean;
  /** Faults that reached a caller, by class. */
  readonly byClass: Readonly<Record<string, number>>;
  /** Apply-mode commands that never ran or changed nothing (busy, deferred), re-sent by design. */
  readonly reruns: number;
  /** Apply-mode commands in all (one per instance each). */
  readonly applySends: number;
  readonly outcomes: Readonly<Record<string, number>>;
  /** Why episodes did not end remediated: count by cause. */
  readonly reasons: Readonly<Record<string, number>>;
  /** What the gate answered the first in-order delivery of each finding. */
  readonly gateAnswers: Readonly<Record<string, number>>;
  readonly maxHistoryEvents: number;
  readonly realSeconds: number;
  readonly simulatedHours: number;
}

export async function runFaults(options: FaultRunOptions): Promise<FaultRun> {
  const started = performance.now();
  const report = options.onProgress ?? (() => undefined);
  const progress = (line: string) =>
    report(`${line} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const stack = await startLocalStack({
    instances: 0,
    wellKnown: false,
    seed: options.seed,
    hosts: faultHosts(options.hosts, options.seed, SIMULATED_START),
    mode: 'apply',
    // Budgets out of the way of the main run; the breaker gets its own storms at the end.
    parameters: { RUN_CLAIM_FLOOR: '100000', MAX_REMEDIATIONS_PER_HOUR: '10000' },
  });
  try {
    const { fleet } = stack;
    const { ledger } = stack;
    const signal = () => AbortSignal.timeout(60_000);
    const perClass = options.perClass;

    // --- Faults, armed before anything runs ---
    const throttled = () => ssmError('ThrottlingException', 'Rate exceeded');
    const invalidInstance = () => ssmError('InvalidInstanceId', 'Instances not in a valid state for account');
    // Kept to count, afterwards, how many of each were consumed (`times` counts down).
    const injected = {
      throttling: [
        { command: 'SendCommand', times: perClass, error: throttled },
        { command: 'GetCommandInvocation', times: perClass, error: throttled },
      ],
      InvalidInstanceId: [
        {
          command: 'SendCommand',
          times: perClass,
          // After the first throttles, so that each class reaches a caller on its own commands.
          matches: () => fleet.count('SendCommand') > perClass * 4,
          error: invalidInstance,
        },
      ],
    };
    for (const fault of [...injected.throttling, ...injected.InvalidInstanceId]) fleet.inject(fault);
    for (const outcome of SSM_FAULTS) fleet.runCommand.failNext({ outcome, times: perClass });
    stack.timeOutNext('workflow-step', perClass);

    // --- A scan a day: fleet-scan queues shards, scan-worker drains them; the findings it published ---
    const scan = (day: number) => stack.scan(`faults-run-${day + 1}`, SIMULATED_START + day * 86_400_000);
    progress(`faults: scanning ${fleet.instances.length} hosts`);
    const firstDay = await scan(0);
    const findings = firstDay.length;
    progress(`faults: ${findings} findings; to the gate, each twice, a tenth three times at once`);

    // --- Every finding to the gate: a tenth three times at once first, then all in order, then all again ---
    const findingEntries = firstDay;
    const racing = firstDay.filter((_, n) => n % 10 === 0);
    const raced = (
      await Promise.all(racing.flatMap((entry) => [0, 1, 2].map(() => stack.deliverFindings([entry]))))
    ).flat();
    const gate = await stack.deliverFindings();
    // EventBridge delivers at least once: the same events again.
    const second = await stack.deliverFindings(firstDay);
    const answer = (r: (typeof gate)[number]) =>
      r.outcome === 'returned' ? (r.result as { status: string; code?: string }) : null;
    const isStart = (r: (typeof gate)[number]) => answer(r)?.status === 'started';
    // Eligible: findings that started or joined an episode, whichever delivery got there first.
    const eligibleIds = new Set<string>();
    for (const [n, r] of [...raced, ...gate].entries()) {
      const entry = n < raced.length ? racing[Math.floor(n / 3)] : findingEntries[n - raced.length];
      const status = answer(r)?.status;
      if (entry !== undefined && (status === 'started' || status === 'joined'))
        eligibleIds.add((entry.detail as { findingId: string }).findingId);
    }
    const eligible = eligibleIds.size;
    // Three concurrent deliveries of one finding start one episode at most.
    let racedDoubleStarts = 0;
    for (let n = 0; n < raced.length; n += 3) {
      if (raced.slice(n, n + 3).filter(isStart).length > 1) racedDoubleStarts += 1;
    }
    // A finding delivered again is refused as a duplicate of its episode (or, once closed, by the cooldown).
    const duplicateRefusals = second.filter((r) =>
      ['duplicate', 'cooldown'].includes(answer(r)?.code ?? ''),
    ).length;
    progress(`faults: ${eligible} eligible; running the workflows`);
    await stack.workflows.idle();
    // Inconclusive and skipped episodes try again with the next scan, as deployed: the daily scans after.
    const laterFindings = [];
    for (let day = 1; day < options.days; day += 1) {
      const found = await scan(day);
      laterFindings.push(...found);
      await stack.deliverFindings();
      await stack.workflows.idle();
      progress(`faults: day ${day + 1}: ${found.length} findings`);
    }

    // --- The breaker: a week on (past the cooldown), the run budget lowered to 3 of 100; storms of claims
    // from one scan run each open it, an operator resets it ---
    fleet.clock.advance(8 * 86_400_000);
    stack.redeploy({ RUN_CLAIM_FLOOR: '3', RUN_CLAIM_PERCENT: '1' });
    const template = findingEntries[0]?.detail as Record<string, unknown> | undefined;
    let trips = 0;
    const stormAt = fleet.clock.now();
    for (let storm = 0; template !== undefined && storm < perClass; storm += 1) {
      const runId = `storm-${storm}`;
      const entries = [...fleet.hosts.keys()].slice(storm * 8, storm * 8 + 8).map((instanceId, n) => ({
        ...findingEntries[0],
        at: stormAt,
        resources: [`arn:aws:ec2:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:instance/${instanceId}`],
        detail: {
          ...template,
          findingId: `${storm.toString(16).padStart(4, '0')}${n.toString(16).padStart(4, '0')}`.padEnd(
            32,
            'f',
          ),
          instanceId,
          detectedAt: new Date(stormAt).toISOString(),
          trigger: { type: 'schedule', runId, scheduledAt: new Date(stormAt).toISOString(), optedIn: 100 },
        },
      }));
      for (const entry of entries) fleet.published.push(entry as (typeof fleet.published)[number]);
      for (const result of await stack.deliverFindings()) {
        if (
          result.outcome === 'returned' &&
          (result.result as { breakerOpened?: boolean }).breakerOpened === true
        )
          trips += 1;
      }
      await resetBreaker('faults', { ledger, clock: fleet.clock }, signal());
    }
    await stack.workflows.idle();

    // --- What happened, from the ledger and the request log ---
    const byClass: Record<string, number> = {
      throttling: injected.throttling.reduce((sum, f) => sum + perClass - f.times, 0),
      InvalidInstanceId: injected.InvalidInstanceId.reduce((sum, f) => sum + perClass - f.times, 0),
      'lambda-deadline': stack.timedOut,
      'duplicate-deliveries': duplicateRefusals,
      'concurrent-deliveries': raced.length,
      'breaker-trips': trips,
    };
    for (const outcome of SSM_FAULTS)
      byClass[outcome] = fleet.runCommand.faultLog.filter(
        (f) => f.outcome === outcome && f.observedAt !== null,
      ).length;

    const outcomes: Record<string, number> = {};
    const reasons: Record<string, number> = {};
    const gateAnswers: Record<string, number> = {};
    for (const r of gate) {
      const a = answer(r);
      const key = a === null ? r.outcome : `${a.status}${a.code === undefined ? '' : `/${a.code}`}`;
      gateAnswers[key] = (gateAnswers[key] ?? 0) + 1;
    }
    let remediated = 0;
    let lost = 0;
    let complete = true;
    const findingIds = new Map<string, string>();
    for (const entry of [...firstDay, ...laterFindings]) {
      const detail = entry.detail as { findingId: string; instanceId: string };
      findingIds.set(detail.findingId, detail.instanceId);
    }
    const counted = new Set(firstDay.map((entry) => (entry.detail as { findingId: string }).findingId));
    const instances = new Set(findingIds.values());
    for (const instanceId of instances) {
      const record = await ledger.record(instanceId, signal());
      const events = await ledger.events(instanceId, signal());
      if (record?.active !== null && record?.active !== undefined) lost += 1;
      for (const [findingId, id] of findingIds) {
        if (id !== instanceId) continue;
        if (!events.some((e) => e.type === 'decision' && e.detail.triggerId === findingId)) {
          lost += 1;
          complete = false;
        }
      }
      for (let episode = 1; episode <= (record?.episode ?? 0); episode += 1) {
        const outcome = events.find((e) => e.type === 'outcome' && e.episode === episode);
        if (outcome === undefined) complete = false;
        const name = String(outcome?.detail.outcome ?? 'none');
        outcomes[name] = (outcomes[name] ?? 0) + 1;
        // Grouped by cause: the episode number and the Auto Scaling advice vary, the cause does not.
        const why = String(outcome?.summary ?? '')
          .replace(/^episode \d+ /, '')
          .replace(/\. The instance belongs to .*$/, '')
          .replace(/\d+ network mount/, 'N network mount')
          .slice(0, 160);
        if (name !== 'remediated') reasons[why] = (reasons[why] ?? 0) + 1;
      }
      if (
        record?.lastClosed?.outcome === 'remediated' ||
        events.some((e) => e.type === 'outcome' && e.detail.outcome === 'remediated')
      ) {
        remediated += [...findingIds].filter(
          ([f, id]) => id === instanceId && eligibleIds.has(f) && counted.has(f),
        ).length;
      }
    }
    // Commands, from the Run Command fake: per (instance, document, episode) at most one apply-mode command
    // may take effect. One that was never delivered, or answered busy/deferred (exit 3: nothing changed, the
    // contract of shared/ssm/README.md), is re-sent by design and counted apart as a re-run.
    fleet.runCommand.settle();
    const effective = new Map<string, number>();
    let reruns = 0;
    let applySends = 0;
    for (const command of fleet.runCommand.commands) {
      if (command.parameters.Mode?.[0] !== 'apply') continue;
      const execution = command.comment.split(' ')[1] ?? command.comment;
      for (const invocation of command.invocations) {
        applySends += 1;
        const key = `${invocation.instanceId}|${command.document.short}|${execution}`;
        const last = invocation.history.at(-1)?.details ?? '';
        const neverRan =
          invocation.startedAt === null || last === 'Undeliverable' || last === 'DeliveryTimedOut';
        if (neverRan || invocation.responseCode === 3) {
          reruns += 1;
          continue;
        }
        effective.set(key, (effective.get(key) ?? 0) + 1);
      }
    }
    const duplicates =
      racedDoubleStarts + [...effective.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    const maxHistoryEvents = Math.max(0, ...stack.workflows.executions.map((e) => e.events));
    return {
      findings,
      eligible,
      injected: Object.values(byClass).reduce((a, b) => a + b, 0),
      remediated: Math.min(remediated, eligible),
      duplicates,
      lost,
      ledgerComplete: complete,
      byClass,
      reruns,
      applySends,
      outcomes,
      reasons,
      gateAnswers,
      maxHistoryEvents,
      realSeconds: Math.round((performance.now() - started) / 100) / 10,
      simulatedHours: Math.round((fleet.clock.now() - SIMULATED_START) / 360_000) / 10,
    };
  } finally {
    await stack.close();
  }
}

/** The stable last line of `npm run faults`. */
export function faultsLine(run: FaultRun): string {
  return `faults: findings=${run.findings} eligible=${run.eligible} injected=${run.injected} remediated=${run.remediated} duplicates=${run.duplicates} lost=${run.lost} ledger=${run.ledgerComplete ? 'complete' : 'incomplete'}`;
}

export type { LocalStack };
