/**
 * The whole pipeline on the embedded default, as `npm start` runs it: a simulated fleet of a few dozen
 * demo hosts, the local stack (the deployed functions, the same ASL definitions in the local Step
 * Functions, the ledger in dynalite) over simulated days — a scheduled scan, findings, the gate, the
 * workflow in dry-run; the mode switched to apply as an operator would, the next day's scan, the workflow
 * acting, its verification later — and a report model of what happened, built from the ledger, the
 * workflow executions and the Run Command log.
 */
import { type Assessment, assessInstance } from '#core/assessment.ts';
import { analyzeNetworkOut } from '#core/network-out/index.ts';
import type { CommandResult, CommandStep } from '#core/remediation/command.ts';
import type { Diagnosis, RemediationPlan } from '#core/remediation/plan.ts';
import type { DataPath } from '#core/remediation/savings.ts';
import type { EpisodeOutcome, LedgerEvent, RemediationMode } from '#core/remediation/types.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import { DiagnosisSchema } from '#shared/events/diagnosis.ts';
import type { VerificationDetail } from '#shared/events/verification.ts';
import {
  buildReport,
  commandReport,
  decisionReport,
  diagnosisReport,
  instanceReport,
  measuredSavings,
  networkOutReport,
} from '#shared/report/build.ts';
import type { CommandReport, InstanceReport, ReportModel } from '#shared/report/model.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';
import { type LocalStack, startLocalStack } from './stack.ts';

export interface PipelineOptions {
  readonly seed: number;
  /** How the fleet reaches S3, for the money figures (the DataPath stack parameter). */
  readonly dataPath?: DataPath;
  /** A line for the terminal at each step. */
  readonly onProgress?: (line: string) => void;
}

export interface PipelineRun {
  readonly model: ReportModel;
  /** The short summary printed at the end. */
  readonly summary: readonly string[];
  readonly simulatedDays: number;
}

const LOOKBACK_DAYS = 14;
const OPT_IN = 'true';

/** Runs the pipeline on the demo fleet and returns what the report shows. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineRun> {
  const progress = options.onProgress ?? (() => undefined);
  const dataPath = options.dataPath ?? 'nat-gateway';
  const hosts = demoHosts(options.seed, SIMULATED_START);
  const stack = await startLocalStack({
    instances: 0,
    wellKnown: false,
    seed: options.seed,
    hosts,
    mode: 'dry-run',
    // Most of this small fleet is crawled on purpose: with the default floor (10) the first scan would
    // open the circuit breaker, which is what it is for on a real fleet, and would stop the tour there.
    parameters: { RUN_CLAIM_FLOOR: String(hosts.length) },
  });
  try {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const optedIn = hosts.filter((host) => host.optIn === OPT_IN).length;

    // Day 1: the scheduled scan; the gate; the workflow in dry-run (check mode only).
    progress(
      `${day(stack.fleet.clock.now())}: ${hosts.length} demo hosts, ${optedIn} opted in, ${LOOKBACK_DAYS} days of metrics each`,
    );
    const first = await stack.scan('demo-scan-1');
    progress(`${day(stack.fleet.clock.now())}: scan: ${first.length} findings (${countKinds(first)})`);
    progress(`  gate: ${describeAnswers(await stack.deliverFindings())}`);
    await stack.workflows.idle();
    progress(`  dry run: ${describeOutcomes(await closedOutcomes(stack, 'dry-run'))}`);

    // The operator read the dry run and switches the stack to apply.
    stack.redeploy({ REMEDIATION_MODE: 'apply' });
    const secondAt = SIMULATED_START + MS_PER_DAY;
    const second = await stack.scan('demo-scan-2', secondAt);
    progress(
      `${day(secondAt)}: RemediationMode=apply; scan: ${second.length} findings (${countKinds(second)})`,
    );
    progress(`  gate: ${describeAnswers(await stack.deliverFindings())}`);
    await stack.workflows.idle();
    progress(`  apply: ${describeOutcomes(await closedOutcomes(stack, 'apply'))}`);

    // A week on: the scheduled scan again. The detectors describe the present: a crawl that stopped
    // days ago is history (lastSeenDay), not a finding.
    const weekAt = secondAt + 7 * MS_PER_DAY;
    const week = await stack.scan('demo-scan-3', weekAt);
    const fixed = new Set(await remediatedInstances(stack));
    const stillFlagged = week.filter((f) =>
      fixed.has(String((f.detail as { instanceId?: unknown }).instanceId)),
    );
    progress(
      `${day(weekAt)}: scan: ${week.length} findings (${countKinds(week)}); of the ${fixed.size} fixed, ${stillFlagged.length} still flagged`,
    );
    progress(`  gate: ${describeAnswers(await stack.deliverFindings())}`);
    await stack.workflows.idle();

    const model = await reportModel(stack, hosts.length, dataPath);
    const simulatedDays = (stack.fleet.clock.now() - SIMULATED_START) / MS_PER_DAY;
    return { model, summary: summaryLines(model), simulatedDays };
  } finally {
    await stack.close();
  }
}

type Published = Awaited<ReturnType<LocalStack['scan']>>[number];
type Invocations = Awaited<ReturnType<LocalStack['deliverFindings']>>;

function countKinds(findings: readonly Published[]): string {
  const counts = new Map<string, number>();
  for (const finding of findings) {
    const kind = String((finding.detail as { kind?: unknown }).kind);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ') || 'none';
}

function describeAnswers(results: Invocations): string {
  const counts = new Map<string, number>();
  for (const result of results) {
    const answer =
      result.outcome === 'returned' ? (result.result as { status?: string; code?: string }) : null;
    const key =
      answer === null ? result.outcome : `${answer.status}${answer.code ? ` (${answer.code})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${key}`).join(', ') || 'nothing delivered';
}

function describeOutcomes(outcomes: ReadonlyMap<EpisodeOutcome, number>): string {
  return [...outcomes].map(([outcome, n]) => `${n} ${outcome}`).join(', ') || 'no episode';
}

/** Outcomes of the episodes that ran in `mode`, from the ledger. */
async function closedOutcomes(
  stack: LocalStack,
  mode: RemediationMode,
): Promise<Map<EpisodeOutcome, number>> {
  const counts = new Map<EpisodeOutcome, number>();
  for (const instanceId of stack.fleet.hosts.keys()) {
    for (const event of await stack.ledger.events(instanceId, AbortSignal.timeout(10_000))) {
      if (event.type !== 'outcome' || event.detail.mode !== mode) continue;
      const outcome = event.detail.outcome as EpisodeOutcome;
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
  }
  return counts;
}

/** Instances whose last outcome in the ledger is `remediated`. */
async function remediatedInstances(stack: LocalStack): Promise<string[]> {
  const fixed: string[] = [];
  for (const instanceId of stack.fleet.hosts.keys()) {
    const record = await stack.ledger.record(instanceId, AbortSignal.timeout(10_000));
    if (record?.lastClosed?.outcome === 'remediated') fixed.push(instanceId);
  }
  return fixed;
}

/** The state the remediation workflow ended with (what its steps returned), by execution name. */
interface WorkflowState {
  readonly commands?: Readonly<Record<string, { readonly value?: CommandResult }>>;
  readonly decision?: {
    readonly value?: {
      readonly plan?: RemediationPlan | null;
      readonly restart?: boolean;
      readonly parameters?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> | null;
    };
  };
  readonly prepared?: {
    readonly value?: { readonly documents?: Readonly<Record<string, { readonly name: string }>> };
  };
}

async function reportModel(stack: LocalStack, hostCount: number, dataPath: DataPath): Promise<ReportModel> {
  const now = stack.fleet.clock.now();
  const executions = new Map(
    stack.workflows.executions
      .filter((execution) => execution.stateMachine === 'remediation')
      .map((execution) => [execution.name, execution.output as WorkflowState | null]),
  );
  const commandsById = new Map(
    stack.fleet.runCommand.commands.map((command) => [command.commandId, command]),
  );
  const instances: InstanceReport[] = [];
  const notScanned: { instanceId: string; reason: string }[] = [];
  for (const [instanceId, host] of stack.fleet.hosts) {
    if (host.spec.optIn !== OPT_IN) {
      notScanned.push({ instanceId, reason: `not opted in (tag value ${JSON.stringify(host.spec.optIn)})` });
      continue;
    }
    // As the scan's eligibility check: SSM must manage the instance and see it online.
    const ping = host.ssmPing;
    if (ping !== 'Online') {
      notScanned.push({
        instanceId,
        reason: ping === null ? 'not registered with SSM' : `SSM PingStatus is ${ping}`,
      });
      continue;
    }
    // The detectors as the first scan saw the host; the heatmap runs on to the end, past any fix.
    const assessment: Assessment = assessInstance(
      instanceId,
      host.lookback(SIMULATED_START, SIMULATED_START, LOOKBACK_DAYS),
      {
        network: { includeProfile: true },
      },
    );
    const sinceDetection = host.lookback(
      now,
      now,
      LOOKBACK_DAYS + Math.ceil((now - SIMULATED_START) / MS_PER_DAY),
    );
    const base = instanceReport(assessment, sinceDetection, {
      name: host.spec.name,
      tags: [
        { key: 'Name', value: host.spec.name },
        { key: 'crawlguard:enabled', value: OPT_IN },
      ],
      dataPath,
    });
    const events = await stack.ledger.events(instanceId, AbortSignal.timeout(10_000));
    const episode = lastEpisode(events);
    if (episode === null) {
      instances.push(base);
      continue;
    }
    const state = executions.get(episode.executionName) ?? null;
    // What diagnose printed, if it was one JSON object of the documented shape.
    const parsed = DiagnosisSchema.safeParse(state?.commands?.diagnose?.value?.output);
    const diagnosis: Diagnosis | undefined = parsed.success ? (parsed.data as Diagnosis) : undefined;
    const plan = state?.decision?.value?.plan ?? null;
    const commands: CommandReport[] = episode.commands.map((event) => {
      const sent = commandsById.get(String(event.detail.commandId));
      const result = state?.commands?.[String(event.detail.key)]?.value ?? null;
      return commandReport({
        step: event.detail.step as CommandStep,
        document: sent?.document.name ?? String(event.detail.step),
        parameters: sent?.parameters ?? {},
        result,
        at: event.at,
      });
    });
    // A dry run that got as far as check mode: what apply would have sent, withheld.
    const decided = state?.decision?.value;
    if (episode.mode === 'dry-run' && episode.outcome?.detail.outcome === 'checked' && decided?.parameters) {
      const documents = state?.prepared?.value?.documents ?? {};
      const withheld: [CommandStep, string][] = [['patch', 'applyPatch']];
      if (decided.restart === true) withheld.push(['restart', 'applyRestart']);
      for (const [step, key] of withheld) {
        const parameters = decided.parameters[key];
        if (parameters === undefined) continue;
        commands.push(
          commandReport({ step, document: documents[step]?.name ?? step, parameters, result: null }),
        );
      }
    }
    const applied = (step: CommandStep) =>
      episode.commands.find(
        (event) =>
          event.detail.step === step &&
          event.detail.mode === 'apply' &&
          ['patched', 'restarted'].includes(String(event.detail.scriptStatus)),
      )?.at ?? null;
    const patchedAt = applied('patch');
    const network = base.networkOut;
    const heatmapProfile =
      base.flagged && sinceDetection['network-out'] !== undefined
        ? (analyzeNetworkOut(sinceDetection['network-out'], { includeProfile: true }).profile ?? null)
        : null;
    instances.push({
      ...base,
      networkOut:
        network === null || assessment.networkOut === null
          ? network
          : networkOutReport(assessment.networkOut, heatmapProfile),
      diagnosis: diagnosis === undefined ? null : diagnosisReport(diagnosis, plan),
      decision:
        episode.decision === null
          ? null
          : decisionReport(
              {
                action: 'remediate',
                rule: String(episode.decision.detail.rule ?? 'default'),
                reason: episode.decision.summary,
              },
              episode.mode,
              episode.outcome === null
                ? null
                : {
                    outcome: episode.outcome.detail.outcome as EpisodeOutcome,
                    reason: episode.outcome.summary,
                  },
            ),
      commands,
      fix: patchedAt === null ? null : { patchedAt, restartedAt: applied('restart') },
      ...(episode.verdict === null ? {} : verificationOf(episode.verdict, dataPath)),
    });
  }
  return buildReport({
    title: 'crawlguard: the demo fleet, scan to verdict',
    generatedAt: new Date(now).toISOString(),
    source: `npm start: ${hostCount} simulated hosts (shared/sim/host-rosters.ts demoHosts), the local stack`,
    instances,
    notScanned,
  });
}

/** The verdict event's verification and, when it measured the crawl, the savings it measured. */
function verificationOf(
  event: LedgerEvent,
  dataPath: DataPath,
): Pick<InstanceReport, 'verification'> & Partial<Pick<InstanceReport, 'savings'>> {
  const detail = event.detail as Partial<VerificationDetail>;
  const network = detail.network ?? null;
  const memory = detail.memory ?? null;
  const measured = network === null ? null : measuredSavings(network, dataPath);
  return {
    verification: {
      verdict: detail.verdict ?? 'inconclusive',
      reason: String(detail.reason ?? event.summary),
      at: detail.verifiedAt ?? event.at,
      network:
        network === null
          ? null
          : {
              verdict: network.verdict,
              reason: `NetworkOut ${network.verdict}${network.movedTo === null ? '' : `: the burst moved to ${network.movedTo}`}`,
              beforeBytesPerDay: network.beforeBytesPerDay,
              afterBytesPerDay: network.afterBytesPerDay,
            },
      memory:
        memory === null
          ? null
          : {
              verdict: memory.verdict,
              reason: `memory ${memory.verdict}`,
              before: memory.before,
              after: memory.after,
            },
    },
    ...(measured === null ? {} : { savings: measured }),
  };
}

interface Episode {
  readonly executionName: string;
  readonly mode: RemediationMode;
  readonly decision: LedgerEvent | null;
  readonly commands: readonly LedgerEvent[];
  readonly outcome: LedgerEvent | null;
  readonly verdict: LedgerEvent | null;
}

/** The instance's last episode that ran a workflow: its claim, decision, commands and outcome. */
function lastEpisode(events: readonly LedgerEvent[]): Episode | null {
  const claims = events.filter(
    (event) => event.type === 'claim' && typeof event.detail.executionName === 'string',
  );
  const claim = claims.at(-1);
  if (claim === undefined || claim.episode === null) return null;
  const number = claim.episode;
  const ofEpisode = events.filter((event) => event.episode === number);
  return {
    executionName: String(claim.detail.executionName),
    mode: claim.detail.mode as RemediationMode,
    decision:
      events.filter((event) => event.type === 'decision' && event.detail.action === 'remediate').at(-1) ??
      null,
    commands: ofEpisode.filter((event) => event.type === 'command'),
    outcome: ofEpisode.find((event) => event.type === 'outcome') ?? null,
    verdict: ofEpisode.find((event) => event.type === 'verdict') ?? null,
  };
}

/** The few lines a person reads at the end. */
function summaryLines(model: ReportModel): string[] {
  const fleet = model.fleet;
  const lines = [
    `flagged: ${fleet.flagged} of ${fleet.scanned} scanned (${fleet.byKind.map((k) => `${k.count} ${k.kind}`).join(', ') || 'none'}); ${fleet.notScanned.length} not scanned`,
  ];
  const outcomes = new Map<string, number>();
  for (const instance of model.instances) {
    const outcome = instance.decision?.outcome;
    if (outcome != null) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  lines.push(`outcomes: ${[...outcomes].map(([o, n]) => `${n} ${o}`).join(', ') || 'none'}`);
  lines.push(`commands: ${fleet.commands.sent} sent, ${fleet.commands.wouldSend} withheld`);
  const verdicts = Object.entries(fleet.verdicts).filter(([, n]) => n > 0);
  lines.push(`verdicts: ${verdicts.map(([v, n]) => `${n} ${v}`).join(', ') || 'none yet'}`);
  lines.push(
    `savings (${fleet.savings.basis}): $${fleet.savings.usdPerMonth.toFixed(2)} a month, ${Math.round(fleet.savings.requestsPerMonth).toLocaleString('en-US')} S3 requests a month, ${fleet.savings.instances} instance(s)`,
  );
  return lines;
}
