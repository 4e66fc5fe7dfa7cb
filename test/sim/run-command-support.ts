/** Helpers for the Run Command tests: send a document to a host and follow it on simulated time, as a caller would. */
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import {
  createSimulatedFleet,
  type HostSpec,
  SIMULATED_STACK,
  SIMULATED_START,
  type SimulatedFleet,
} from '#shared/sim/fleet.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';

export const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

/** A fleet of the demo hosts (and nothing else), or of the hosts given. */
export function hostFleet(hosts: readonly HostSpec[] = demoHosts(1, SIMULATED_START)): SimulatedFleet {
  return createSimulatedFleet({ instances: 0, wellKnown: false, hosts });
}

/** The instance id of a host by its Name tag. */
export function idOf(fleet: SimulatedFleet, name: string): string {
  const host = [...fleet.hosts.values()].find((h) => h.spec.name === name);
  if (host === undefined) throw new Error(`no host named ${name}`);
  return host.instanceId;
}

export const documentName = (short: string) => `${SIMULATED_STACK}-${short}`;

/** SendCommand as the workflow sends it: one instance, a pinned version, TimeoutSeconds 600, a Comment. */
export async function send(
  fleet: SimulatedFleet,
  instanceId: string,
  short: string,
  parameters: Record<string, string> = {},
  extra: Partial<SendCommandCommandInput> = {},
): Promise<string> {
  const sent = await fleet.clients.ssm.send(
    new SendCommandCommand({
      DocumentName: documentName(short),
      DocumentVersion: '1',
      InstanceIds: [instanceId],
      Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
      TimeoutSeconds: 600,
      Comment: `test-${short}`,
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true },
      ...extra,
    }),
  );
  const commandId = sent.Command?.CommandId;
  if (commandId === undefined) throw new Error('SendCommand returned no CommandId');
  return commandId;
}

export interface Followed {
  /** Each status seen (`InvocationDoesNotExist` for the error), consecutive repeats dropped. */
  readonly statuses: string[];
  readonly result: GetCommandInvocationCommandOutput;
}

/** Polls GetCommandInvocation every `pollMs` of simulated time until a terminal status (bounded). */
export async function follow(
  fleet: SimulatedFleet,
  commandId: string,
  instanceId: string,
  pollMs = 500,
  maxPolls = 5_000,
): Promise<Followed> {
  const statuses: string[] = [];
  const note = (status: string) => {
    if (statuses.at(-1) !== status) statuses.push(status);
  };
  for (let poll = 0; poll < maxPolls; poll += 1) {
    try {
      const result = await fleet.clients.ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
      );
      note(`${result.Status}/${result.StatusDetails}`);
      if (TERMINAL.has(result.Status ?? '')) return { statuses, result };
    } catch (error) {
      if ((error as Error).name !== 'InvocationDoesNotExist') throw error;
      note('InvocationDoesNotExist');
    }
    await fleet.clock.sleep(pollMs);
  }
  throw new Error(`no terminal status after ${maxPolls} polls: ${statuses.join(' → ')}`);
}

/** Sends a document and follows it to the end; `output` is stdout parsed as JSON (null when it is not JSON). */
export async function run(
  fleet: SimulatedFleet,
  instanceId: string,
  short: string,
  parameters: Record<string, string> = {},
  extra: Partial<SendCommandCommandInput> = {},
): Promise<Followed & { commandId: string; output: unknown }> {
  const commandId = await send(fleet, instanceId, short, parameters, extra);
  const followed = await follow(fleet, commandId, instanceId);
  let output: unknown = null;
  try {
    output = JSON.parse(followed.result.StandardOutputContent ?? '');
  } catch {
    output = null;
  }
  return { ...followed, commandId, output };
}
