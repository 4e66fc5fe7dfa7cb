/**
 * The workflow-step function's sample events: the payloads the remediation workflows' Task states send
 * it, recorded from real runs on the local stack (the deployed ASL definitions on the local Step
 * Functions runner, the ledger on dynalite, the simulated Run Command) on the demo host cron-media-1
 * under the id of the embedded default's crawled instance, on simulated time (deterministic).
 */
import { StepFunctionsWorkflows } from '#aws/stepfunctions.ts';
import type { RemediationMode } from '#core/remediation/types.ts';
import { startLocalStack } from '#shared/local/stack.ts';
import { approvalIdFor } from '#shared/remediation/ids.ts';
import { approve } from '#shared/remediation/operator.ts';
import { ssmError } from '#shared/sim/aws/ssm.ts';
import { SIMULATED_START, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';

type Payload = Record<string, unknown> & { readonly action: string };

/**
 * Every action of the workflows, once: an apply run (prepare, plan, after-checks, after-patch,
 * after-restart, schedule-verify, verify, close and the run-command steps), then an approve run in which
 * the first SendCommand fails as if it might have gone out (adopt-command), the operator approves
 * (request-approval, approval-digest, compare-plans) and the restart hangs after its umount
 * (escalate-outage).
 * Path under events/ → the action's first payload (track-command: the first that sees a command end).
 */
export async function generateWorkflowStepSamples(): Promise<Record<string, Payload>> {
  const payloads = [...(await recordRun('apply', false)), ...(await recordRun('approve', true))];
  const pick = (action: string, also: (payload: Payload) => boolean = () => true) => {
    const found = payloads.find((payload) => payload.action === action && also(payload));
    if (found === undefined) throw new Error(`the recorded runs sent no ${action} payload`);
    return found;
  };
  const samples: Record<string, Payload> = {};
  for (const action of new Set(payloads.map((payload) => payload.action))) {
    samples[`workflow-step/${action}.json`] =
      action === 'track-command'
        ? pick(action, (payload) => invocationStatus(payload) === 'Success')
        : pick(action);
  }
  return samples;
}

function invocationStatus(payload: Payload): unknown {
  return (payload.run as { invocation?: { Status?: unknown } | null } | undefined)?.invocation?.Status;
}

/** One remediation requested by an operator, run to its end; every payload workflow-step received. */
async function recordRun(mode: RemediationMode, faults: boolean): Promise<Payload[]> {
  const host = demoHosts(1, SIMULATED_START).find((spec) => spec.name === 'cron-media-1');
  if (host === undefined) throw new Error('no demo host cron-media-1');
  const recorded: Payload[] = [];
  const stack = await startLocalStack({
    instances: 0,
    wellKnown: false,
    seed: 1,
    hosts: [{ ...host, instanceId: WELL_KNOWN.crawled }],
    mode,
    onInvoke: (name, event) => {
      if (name !== 'workflow-step') return;
      const payload = JSON.parse(JSON.stringify(event)) as Payload;
      recorded.push(payload);
      // Armed once the patch is applied, so that the restart's check mode runs as usual.
      if (faults && payload.action === 'after-patch')
        stack.fleet.runCommand.failNext({
          outcome: 'ExecutionTimedOut',
          document: 'restart-s3fs',
          times: 1,
          leavesUnmounted: true,
        });
    },
  });
  const signal = () => AbortSignal.timeout(60_000);
  try {
    // An error that does not say whether the command went out: the workflow looks for it before resending.
    if (faults)
      stack.fleet.inject({
        command: 'SendCommand',
        times: 1,
        error: () => ssmError('InternalServerError', 'An internal error occurred'),
      });
    const started = await stack.invoke('remediate', {
      crawlguard: 'remediation-request',
      schemaVersion: 1,
      requestId: 'req-20261104-alice-1',
      instanceId: WELL_KNOWN.crawled,
      kind: 'updatedb-crawl',
      requestedBy: 'alice',
      reason: 'NetworkOut jumps every morning at 06:25 on this s3fs server',
    });
    if (started.outcome !== 'returned') throw new Error(`remediate ${started.outcome}`);
    if (mode === 'approve') await approveWhenAsked(stack, signal);
    await stack.workflows.idle();
    return recorded;
  } finally {
    await stack.close();
  }
}

/** Lets simulated time pass until the workflow asks, then approves as the operator alice. */
async function approveWhenAsked(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  signal: () => AbortSignal,
): Promise<void> {
  const ledger = stack.ledger;
  const workflows = new StepFunctionsWorkflows(stack.clients.sfn, {
    stateMachineArn: stack.environment('remediate').STATE_MACHINE_ARN ?? '',
    clock: stack.fleet.clock,
  });
  const approvalId = approvalIdFor(`${WELL_KNOWN.crawled}-1`, 0);
  for (let i = 0; i < 200; i += 1) {
    if ((await ledger.approval(approvalId, signal()))?.status === 'pending') {
      await approve(approvalId, 'alice', { ledger, workflows, clock: stack.fleet.clock }, signal());
      return;
    }
    await stack.fleet.clock.sleep(5_000);
  }
  throw new Error(`the workflow asked for no approval ${approvalId}`);
}
