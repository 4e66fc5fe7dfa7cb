/**
 * The e2e's summary line of the remediation loop on the real mount (a stable interface, like the other
 * `e2e:` lines): formatted by the e2e, parsed by its test and by anyone reading the log.
 *
 *   e2e loop: mode=apply finding=updatedb-crawl decision=remediate diagnose=ok patch=patched restart=restarted verify=resolved crawl requests before=3181 after=0
 */

export interface LoopSummary {
  readonly mode: string;
  /** The finding's kind (`updatedb-crawl`, ...), or `none`. */
  readonly finding: string;
  /** The gate's decision (`remediate`, `skip`, ...), or `none`. */
  readonly decision: string;
  /** The `status` each apply-mode command's script printed, or `none` when it was not sent. */
  readonly diagnose: string;
  readonly patch: string;
  readonly restart: string;
  /** The verification verdict (`resolved`, `not-resolved`, `inconclusive`), or `none`. */
  readonly verify: string;
  /** S3 requests the real daily crawl made before the fix, and after it (all crawls after the fix). */
  readonly requestsBefore: number;
  readonly requestsAfter: number;
}

export class LoopLineError extends Error {
  override readonly name = 'LoopLineError';
}

// A status as the scripts print it (`patched`, `alreadyCompliant`), a kind or a verdict.
const WORD = '[A-Za-z][A-Za-z0-9-]*';
const LINE = new RegExp(
  `^e2e loop: mode=(${WORD}) finding=(${WORD}) decision=(${WORD}) diagnose=(${WORD}) patch=(${WORD}) ` +
    `restart=(${WORD}) verify=(${WORD}) crawl requests before=(0|[1-9]\\d*) after=(0|[1-9]\\d*)$`,
);
const WORD_ONLY = new RegExp(`^${WORD}$`);

/** The line, fields in their fixed order. Throws LoopLineError for a value that would break the format. */
export function formatLoopLine(summary: LoopSummary): string {
  const words = [
    ['mode', summary.mode],
    ['finding', summary.finding],
    ['decision', summary.decision],
    ['diagnose', summary.diagnose],
    ['patch', summary.patch],
    ['restart', summary.restart],
    ['verify', summary.verify],
  ] as const;
  for (const [field, value] of words) {
    if (!WORD_ONLY.test(value)) throw new LoopLineError(`${field}: not a word: ${JSON.stringify(value)}`);
  }
  for (const [field, value] of [
    ['before', summary.requestsBefore],
    ['after', summary.requestsAfter],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new LoopLineError(`${field}: not a count: ${value}`);
  }
  return (
    `e2e loop: ${words.map(([field, value]) => `${field}=${value}`).join(' ')} ` +
    `crawl requests before=${summary.requestsBefore} after=${summary.requestsAfter}`
  );
}

/** Reads a line {@link formatLoopLine} wrote. Throws LoopLineError, naming what is wrong, for any other. */
export function parseLoopLine(line: string): LoopSummary {
  const match = LINE.exec(line);
  if (match === null) throw new LoopLineError(`not an e2e loop line: ${JSON.stringify(line.slice(0, 200))}`);
  const [, mode, finding, decision, diagnose, patch, restart, verify, before, after] =
    match as unknown as string[];
  const requestsBefore = Number(before);
  const requestsAfter = Number(after);
  if (!Number.isSafeInteger(requestsBefore) || !Number.isSafeInteger(requestsAfter))
    throw new LoopLineError(`request counts out of range: ${before}, ${after}`);
  return {
    mode: mode as string,
    finding: finding as string,
    decision: decision as string,
    diagnose: diagnose as string,
    patch: patch as string,
    restart: restart as string,
    verify: verify as string,
    requestsBefore,
    requestsAfter,
  };
}

/**
 * Why the loop did not prove the fix, or null when it did: applied, remediated, verified `resolved`, and
 * the real crawl after the fix made no request through the mount while the one before did.
 */
export function loopFailure(summary: LoopSummary): string | null {
  const problems: string[] = [];
  if (summary.mode !== 'apply') problems.push(`mode ${summary.mode}, not apply`);
  if (summary.decision !== 'remediate') problems.push(`decision ${summary.decision}`);
  if (summary.patch !== 'patched') problems.push(`patch ${summary.patch}`);
  if (summary.verify !== 'resolved') problems.push(`verify ${summary.verify}`);
  if (summary.requestsBefore === 0) problems.push('the crawl before the fix made no request');
  if (summary.requestsAfter !== 0)
    problems.push(`the crawl after the fix made ${summary.requestsAfter} requests`);
  return problems.length === 0 ? null : problems.join('; ');
}
