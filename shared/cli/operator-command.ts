/**
 * `npm run approve`, `npm run deny`, `npm run breaker`: what an operator does to a deployed stack's
 * remediations. The approval id comes in the approval message; the task token stays in the ledger.
 */
import { userInfo } from 'node:os';
import { CrawlguardError } from '#core/errors.ts';
import { escapeControl } from '#core/text.ts';
import type { Clock } from '#shared/clock.ts';
import type { Ledger, TaskTokens } from '#shared/ports.ts';
import { approve, deny, listApprovals, resetBreaker } from '#shared/remediation/operator.ts';
import { parseCommandLine } from './command-line.ts';

export const OPERATOR_USAGE = `usage:
  npm run --silent approve -- <approval-id> [--by NAME] --table TABLE
  npm run --silent deny -- <approval-id> --reason TEXT [--by NAME] --table TABLE
  npm run --silent breaker -- reset|status [--by NAME] --table TABLE
  npm run --silent approvals -- --run RUN [--all] --table TABLE

  <approval-id>   the id in the approval message (apv-...), never the task token
  --table TABLE   the stack's ledger table (output LedgerTableName); or CRAWLGUARD_LEDGER_TABLE
  --by NAME       who decides (default: the local user name), written to the audit trail
  --reason TEXT   why a remediation is denied (the instance is then left alone for DenySuppressDays)
  --run RUN       the scan run (or request id) an approval digest names: lists its approvals still
                  waiting, one JSON object a line (--all: answered and expired ones too)

AWS credentials and region come from the default chain (AWS_PROFILE, AWS_REGION, ...).
exit codes: 0 done, 1 refused or failed (not pending, unknown id, AWS error), 2 bad arguments`;

export type OperatorCommand = 'approve' | 'deny' | 'breaker' | 'approvals';

export interface OperatorIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** What the commands act on: a ledger and the waiting tasks (real AWS, or a local stack in tests). */
export interface OperatorTarget {
  readonly ledger: Ledger;
  readonly workflows: TaskTokens;
  readonly clock: Clock;
}

/** Runs one operator command; every expected problem is one line on stderr. */
export async function runOperator(
  command: OperatorCommand,
  argv: readonly string[],
  io: OperatorIo,
  target: (table: string) => OperatorTarget,
  defaults: { readonly table?: string | undefined; readonly user?: string | undefined } = {},
): Promise<0 | 1 | 2> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`${command}: ${escapeControl((error as Error).message)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${OPERATOR_USAGE}\n`);
    return 0;
  }
  const by = values.by ?? defaults.user ?? safeUser();
  const table = values.table ?? defaults.table;
  const usage = (message: string): 2 => {
    io.stderr(`${command}: ${message} (see --help)\n`);
    return 2;
  };
  if (table === undefined || !/^[A-Za-z0-9_.-]{3,255}$/.test(table))
    return usage('--table must name the ledger table');
  if (!/^[\w.@ -]{1,64}$/.test(by)) return usage('--by must be 1 to 64 letters, digits, spaces or ._@-');
  const signal = AbortSignal.timeout(60_000);
  try {
    const deps = target(table);
    if (command === 'breaker') {
      const [verb, ...rest] = positionals;
      if ((verb !== 'reset' && verb !== 'status') || rest.length > 0)
        return usage('expected: breaker reset|status');
      if (verb === 'status') {
        const state = await deps.ledger.breaker(signal);
        io.stdout(`${JSON.stringify(state, null, 2)}\n`);
        return 0;
      }
      const closed = await resetBreaker(by, deps, signal);
      io.stdout(`${closed ? 'the circuit breaker is closed again' : 'the circuit breaker was not open'}\n`);
      return 0;
    }
    if (command === 'approvals') {
      const run = values.run;
      if (run === undefined || !/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(run) || positionals.length > 0)
        return usage('approvals needs --run RUN (the run id of the digest: letters, digits, dashes)');
      const listed = await listApprovals(run, values.all === true, deps, signal);
      for (const approval of listed) io.stdout(`${escapeControl(JSON.stringify(approval))}\n`);
      io.stderr(`approvals: ${listed.length} of run ${run}${values.all === true ? '' : ' still waiting'}\n`);
      return 0;
    }
    const [approvalId, ...rest] = positionals;
    if (approvalId === undefined || rest.length > 0 || !/^apv-[0-9a-f]{16}$/.test(approvalId)) {
      return usage('expected one approval id (apv- and 16 hex digits)');
    }
    if (command === 'deny' && (values.reason === undefined || values.reason.trim() === '')) {
      return usage('deny needs --reason');
    }
    const outcome =
      command === 'approve'
        ? await approve(approvalId, by, deps, signal)
        : await deny(approvalId, by, values.reason ?? '', deps, signal);
    io.stdout(`${JSON.stringify(outcome, null, 2)}\n`);
    return 0;
  } catch (error) {
    const known = error instanceof CrawlguardError;
    const message =
      escapeControl(error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    io.stderr(`${command}: ${known ? message : `${(error as Error)?.name ?? 'Error'}: ${message}`}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseCommandLine(argv, {
    table: { type: 'string' },
    by: { type: 'string' },
    reason: { type: 'string' },
    run: { type: 'string' },
    all: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}
