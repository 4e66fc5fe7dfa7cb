/**
 * What remediation episodes use, measured on the local stack in apply mode (the real state machine
 * definitions, the ledger on a DynamoDB-protocol server, the functions' handlers): the demo roster of
 * modelled hosts is scanned, every finding goes to the gate, the workflows run to their end. Counted per
 * episode: state transitions (states entered), Lambda tasks, remediate invocations, table write units,
 * events published and log bytes (each function's log lines at the template's log level).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LocalLogger } from '#shared/local/logger.ts';
import { startLocalStack } from '#shared/local/stack.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import { demoHosts } from '#shared/sim/host-rosters.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// Writes of the ledger (low-level and document client names); a transaction costs 2 units an item.
const WRITES = /^(Put|Update|Delete)(Item)?Command$/;
const TRANSACT_WRITES = /^TransactWrite(Items)?Command$/;

/** Usage of one episode, on average. */
export interface RemediationUsage {
  readonly episodes: number;
  readonly stateTransitions: number;
  readonly lambdaTasks: number;
  readonly remediateInvocations: number;
  readonly tableWriteUnits: number;
  readonly events: number;
  readonly logBytes: number;
}

/** Runs the remediation of the demo roster once and divides by the episodes it started. */
export async function measureRemediation(seed = 5): Promise<RemediationUsage> {
  const lambdaStates = lambdaTaskStates();
  let transitions = 0;
  let lambdaTasks = 0;
  let logBytes = 0;
  let counting = false;
  const stack = await startLocalStack({
    instances: 0,
    wellKnown: false,
    seed,
    hosts: demoHosts(seed, SIMULATED_START),
    mode: 'apply',
    logger: new LocalLogger((line) => {
      if (counting) logBytes += Buffer.byteLength(line) + 1;
    }, 'INFO'),
    onExecutionEvent: (_execution, event) => {
      if (event.type !== 'StateEntered') return;
      transitions += 1;
      if (event.state !== undefined && lambdaStates.has(event.state)) lambdaTasks += 1;
    },
  });
  try {
    const { fleet } = stack;
    const writes = { units: 0 };
    stack.clients.dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (context as { commandName?: string }).commandName ?? '';
        const input = args.input as { TransactItems?: unknown[] };
        if (counting && WRITES.test(name)) writes.units += 1;
        if (counting && TRANSACT_WRITES.test(name)) writes.units += 2 * (input.TransactItems?.length ?? 0);
        return next(args);
      },
      { step: 'initialize', name: 'benchCountWrites' },
    );
    const run = await stack.invoke('fleet-scan', {
      crawlguard: 'fleet-scan',
      schemaVersion: 1,
      scheduledTime: new Date(fleet.clock.now()).toISOString(),
      executionId: 'bench-remediation-1',
    });
    if (run.outcome !== 'returned') throw new Error(`fleet-scan: ${run.outcome}`);
    for (let i = 0; i < fleet.queued.length; i += 2)
      await stack.invoke('scan-worker', fleet.sqsEvent(fleet.queued.slice(i, i + 2)));
    const eventsBefore = putEventsEntries(fleet.requests);
    counting = true;
    transitions = 0;
    lambdaTasks = 0;
    const delivered = await stack.deliverFindings();
    await stack.workflows.idle();
    counting = false;
    const episodes = stack.workflows.executions.filter((e) => e.stateMachine === 'remediation').length;
    if (episodes === 0) throw new Error('the demo roster started no remediation episode');
    const per = (value: number) => value / episodes;
    return {
      episodes,
      stateTransitions: per(transitions),
      lambdaTasks: per(lambdaTasks),
      remediateInvocations: per(delivered.length),
      tableWriteUnits: per(writes.units),
      events: per(putEventsEntries(fleet.requests) - eventsBefore),
      logBytes: per(logBytes),
    };
  } finally {
    await stack.close();
  }
}

/** Names of the states of both workflows that invoke a Lambda function. */
function lambdaTaskStates(): Set<string> {
  const names = new Set<string>();
  const visit = (
    states: Record<
      string,
      {
        Resource?: string;
        Branches?: { States: never }[];
        ItemProcessor?: { States: never };
        Iterator?: { States: never };
      }
    >,
  ) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Resource?.startsWith('arn:aws:states:::lambda:invoke')) names.add(name);
      for (const branch of state.Branches ?? []) visit(branch.States);
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Iterator) visit(state.Iterator.States);
    }
  };
  for (const file of ['remediation.asl.json', 'run-command.asl.json'])
    visit((JSON.parse(readFileSync(resolve(ROOT, file), 'utf8')) as { States: never }).States);
  return names;
}

function putEventsEntries(requests: readonly { command: string; input: unknown }[]): number {
  return requests
    .filter((r) => r.command === 'PutEvents')
    .reduce((sum, r) => sum + ((r.input as { Entries?: unknown[] }).Entries?.length ?? 0), 0);
}

if (import.meta.main) console.log(JSON.stringify(await measureRemediation()));
