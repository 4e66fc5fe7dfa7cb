/**
 * The local stack with the demo hosts, for the remediation tests: ask for a remediation of a host by name
 * (an operator request through the remediate function), wait for its workflow, read what happened.
 */

import type { DynamoDbLedger } from '#aws/dynamodb-ledger.ts';
import { StepFunctionsWorkflows } from '#aws/stepfunctions.ts';
import type { RemediationMode } from '#core/remediation/types.ts';
import { type LocalStack, startLocalStack } from '#shared/local/stack.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import type { HostSpec } from '#shared/sim/host.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';

export interface RemediationStack extends LocalStack {
  readonly hosts: readonly HostSpec[];
  readonly ledger: DynamoDbLedger;
  readonly sfn: StepFunctionsWorkflows;
  /** The demo host with this Name tag. */
  host(name: string): HostSpec;
  /** Asks for a remediation of a host by name; resolves with what the gate returned. */
  request(name: string, kind?: 'updatedb-crawl' | 'memory-growth' | 'daily-network-burst'): Promise<unknown>;
  /** SendCommand requests the simulated SSM received for an instance. */
  sent(instanceId: string): {
    DocumentName: string;
    DocumentVersion?: string;
    Parameters?: Record<string, string[]>;
    Comment?: string;
    TimeoutSeconds?: number;
    CloudWatchOutputConfig?: { CloudWatchOutputEnabled?: boolean };
  }[];
}

let requests = 0;

export async function remediationStack(
  mode: RemediationMode,
  parameters: Record<string, string> = {},
  extraHosts: (demo: readonly HostSpec[]) => readonly HostSpec[] = () => [],
): Promise<RemediationStack> {
  const demo = demoHosts(1, SIMULATED_START);
  const hosts = [...demo, ...extraHosts(demo)];
  // A demo fleet is mostly crawled hosts: let one run claim all of them unless a test says otherwise.
  const stack = await startLocalStack({
    instances: 0,
    wellKnown: false,
    seed: 1,
    hosts,
    mode,
    parameters: { RUN_CLAIM_FLOOR: '1000', MAX_REMEDIATIONS_PER_HOUR: '1000', ...parameters },
  });
  const ledger = stack.ledger;
  const sfn = new StepFunctionsWorkflows(stack.clients.sfn, {
    stateMachineArn: stack.environment('remediate').STATE_MACHINE_ARN ?? '',
    clock: stack.fleet.clock,
  });
  const host = (name: string): HostSpec => {
    const found = hosts.find((h) => h.name === name);
    if (found === undefined) throw new Error(`no demo host ${name}`);
    return found;
  };
  return {
    ...stack,
    // A getter: the spread above copied the count at start.
    get timedOut() {
      return stack.timedOut;
    },
    hosts,
    ledger,
    sfn,
    host,
    request: async (name, kind = 'updatedb-crawl') => {
      requests += 1;
      const invocation = await stack.invoke('remediate', {
        crawlguard: 'remediation-request',
        schemaVersion: 1,
        requestId: `test-${requests}`,
        instanceId: host(name).instanceId,
        kind,
        requestedBy: 'test',
        reason: `remediate ${name}`,
      });
      if (invocation.outcome !== 'returned')
        throw new Error(`remediate ${invocation.outcome}: ${JSON.stringify(invocation)}`);
      return invocation.result;
    },
    sent: (instanceId) =>
      stack.fleet.requests
        .filter((r) => r.command === 'SendCommand' && r.outcome === 'ok')
        .map((r) => r.input as ReturnType<RemediationStack['sent']>[number] & { InstanceIds?: string[] })
        .filter((input) => input.InstanceIds?.includes(instanceId) === true),
  };
}
