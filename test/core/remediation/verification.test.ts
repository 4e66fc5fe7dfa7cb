import { describe, expect, it } from 'vitest';
import {
  approvalDigestMessage,
  breakerMessage,
  type EpisodeReport,
  episodeMessage,
  needsPerson,
  type PendingApproval,
} from '#core/remediation/messages.ts';
import { savingsOf } from '#core/remediation/savings.ts';
import {
  afterRound,
  MAX_VERIFY_ROUNDS,
  nextLookAt,
  VERIFY_MARGIN_MINUTES,
  type VerificationRound,
  windowFromFinding,
} from '#core/remediation/verification.ts';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

describe('when to look and where', () => {
  it('takes the finding window from its earliest start to its end, widened by anacron’s delay', () => {
    expect(
      windowFromFinding({ start: '06:25', end: '07:10', latestStart: '06:40', timeZone: 'UTC' }, null),
    ).toEqual({ startMinute: 385, lengthMinutes: 45, timeZone: 'UTC' });
    expect(
      windowFromFinding(
        { start: '06:25', end: '07:10', latestStart: '06:40', timeZone: 'UTC' },
        { kind: 'cron-daily', minuteOfDay: 385, jitterMinutes: 45 },
      )?.lengthMinutes,
    ).toBe(90);
    // A window across midnight.
    expect(
      windowFromFinding({ start: '23:30', end: '00:45', latestStart: '23:50', timeZone: 'UTC' }, null)
        ?.lengthMinutes,
    ).toBe(75);
    expect(windowFromFinding(null, null)).toBeNull();
  });

  it('looks after the next end of the window, in the window’s zone, plus the margin', () => {
    const window = { startMinute: 385, lengthMinutes: 45, timeZone: 'Europe/Paris' };
    // 06:25–07:10 Paris is 05:25–06:10 UTC in winter.
    expect(nextLookAt(window, at('2026-11-04T00:00:00Z'))).toBe(
      at('2026-11-04T06:10:00Z') + VERIFY_MARGIN_MINUTES * MIN,
    );
    // Fixed after today's window: tomorrow's.
    expect(nextLookAt(window, at('2026-11-04T08:00:00Z'))).toBe(
      at('2026-11-05T06:10:00Z') + VERIFY_MARGIN_MINUTES * MIN,
    );
    // Without a window: a whole day (every daily schedule, whatever its random delay, has run once).
    expect(nextLookAt(null, at('2026-11-04T08:00:00Z'))).toBe(
      at('2026-11-05T08:00:00Z') + VERIFY_MARGIN_MINUTES * MIN,
    );
  });

  it('looks again only while inconclusive, and at most MAX_VERIFY_ROUNDS times', () => {
    const round = (verdict: VerificationRound['verdict']): VerificationRound => ({
      verdict,
      reason: '',
      network: null,
      memory: null,
      window: null,
    });
    const now = at('2026-11-05T08:00:00Z');
    expect(afterRound(round('inconclusive'), 1, now)).toEqual({
      next: 'wait',
      waitUntil: nextLookAt(null, now),
    });
    expect(afterRound(round('inconclusive'), MAX_VERIFY_ROUNDS, now)).toEqual({ next: 'done' });
    // not-resolved escalates: never another look (no automatic retry).
    expect(afterRound(round('not-resolved'), 1, now)).toEqual({ next: 'done' });
    expect(afterRound(round('resolved'), 1, now)).toEqual({ next: 'done' });
  });
});

const report = (overrides: Partial<EpisodeReport> = {}): EpisodeReport => ({
  instanceId: 'i-0123456789abcdef0',
  episode: 2,
  mode: 'apply',
  kinds: ['updatedb-crawl'],
  outcome: 'remediated',
  reason: 'patched and s3fs restarted',
  finding: {
    summary: 'NetworkOut burst at 06:25–07:10 on 12 of 14 days, 35.4 MB a day',
    detectedAt: '2026-11-04T13:00:00Z',
  },
  plan: { pruneFsTypes: ['fuse.s3fs'], prunePaths: [], restartMounts: ['/srv/media'] },
  commands: ['patch: succeeded (patched)', 'restart: succeeded (restarted)'],
  verification: { verdict: 'resolved', reason: 'network resolved: 2 expected crawl day(s) quiet', rounds: 3 },
  savings: savingsOf(35.4e6, 0, 'nat-gateway'),
  dataPath: 'nat-gateway',
  executionName: 'i-0123456789abcdef0-2',
  ...overrides,
});

describe('messages for a person', () => {
  it('an episode: what was found, done, the outcome, the verdict and the savings with numbers', () => {
    const { subject, body } = episodeMessage(report());
    expect(subject).toBe('crawlguard: i-0123456789abcdef0 fixed, verified resolved');
    expect(body).toContain(
      'NetworkOut burst at 06:25–07:10 on 12 of 14 days, 35.4 MB a day (detected 2026-11-04T13:00:00Z)',
    );
    expect(body).toContain('plan: prune fuse.s3fs in /etc/updatedb.conf; restart s3fs on /srv/media');
    expect(body).toContain('patch: succeeded (patched)');
    expect(body).toContain('remediated: patched and s3fs restarted');
    expect(body).toContain('resolved after 3 look(s) at the metrics since the fix');
    // 35.4 MB/day through a NAT gateway: ~63,600 requests a day; data 0.0354 GB × $0.045 × 30.
    expect(body).toMatch(/before: 35\.4 MB\/day sent, ~63,555 S3 requests\/day, \$\d+\.\d{2}\/month/);
    expect(body).toContain('after: 0 B/day sent, ~0 S3 requests/day, $0.00/month');
    expect(body).toContain('data path nat-gateway: NAT processing per GB');
    expect(body).not.toContain('Needs a person');
  });

  it('a dry run gives the check-mode diff and says there is nothing to verify', () => {
    const { subject, body } = episodeMessage(
      report({
        mode: 'dry-run',
        outcome: 'checked',
        reason: 'dry run: would change updatedb.conf: PRUNEFS append +fuse.s3fs; restart check wouldRestart',
        commands: ['checkPatch: succeeded (nonCompliant)'],
        verification: null,
        savings: null,
      }),
    );
    expect(subject).toBe('crawlguard: i-0123456789abcdef0 dry run: would fix');
    expect(body).toContain('Would be done (check mode, nothing changed)');
    expect(body).toContain('PRUNEFS append +fuse.s3fs');
    expect(body).toContain('none: a dry run changes nothing, so there is nothing to verify');
  });

  it('an escalation says why and what the person should do', () => {
    const notResolved = episodeMessage(
      report({
        outcome: 'escalated',
        verification: {
          verdict: 'not-resolved',
          reason: 'the burst moved: a comparable one starts at 14:00',
          rounds: 4,
        },
      }),
    );
    expect(notResolved.subject).toBe('crawlguard: i-0123456789abcdef0 escalated');
    expect(notResolved.body).toContain(
      'Needs a person\n  the fix did not fix it (the burst moved: a comparable one starts at 14:00)',
    );
    const deferred = episodeMessage(
      report({
        outcome: 'escalated',
        reason: 'patched, but the restart was deferred 3 times: held by python3 (pid 4242) on /mnt/ingest',
        verification: null,
        savings: null,
      }),
    );
    expect(deferred.body).toContain(
      'Needs a person\n  patched, but the restart was deferred 3 times: held by python3 (pid 4242)',
    );
  });

  it('only outcomes that need a person are sent', () => {
    expect(
      ['remediated', 'checked', 'escalated', 'failed', 'inconclusive'].every((o) => needsPerson(o as never)),
    ).toBe(true);
    expect(
      ['skipped', 'aborted', 'instance-gone', 'nothing-to-do', 'not-updatedb', 'denied'].some((o) =>
        needsPerson(o as never),
      ),
    ).toBe(false);
  });

  it('the breaker: one message saying why and how to reset it', () => {
    const { subject, body } = breakerMessage('5 remediations in a row failed', '2026-11-04T13:05:00.000Z');
    expect(subject).toBe('crawlguard: circuit breaker OPEN, remediations stopped');
    expect(body).toContain('Why: 5 remediations in a row failed');
    expect(body).toContain('crawlguard breaker reset --table TABLE');
  });

  describe('the approval digest', () => {
    const pending = (n: number, extra: Partial<PendingApproval> = {}): PendingApproval => ({
      approvalId: `apv-${n.toString(16).padStart(16, '0')}`,
      instanceId: `i-${n.toString(16).padStart(17, '0')}`,
      instanceName: `web-${n}`,
      episode: 1,
      changes: [{ variable: 'PRUNEFS', action: 'append', added: ['fuse.s3fs'] }],
      restartMounts: ['/srv/media'],
      summary: 'would change updatedb.conf: PRUNEFS append +fuse.s3fs; restart check checked',
      expiresAt: '2026-11-07T13:00:00.000Z',
      ...extra,
    });
    const digest = (approvals: PendingApproval[]) => ({
      runId: 'run-42',
      round: 1,
      approvals,
      alreadyDecided: 0,
      table: 'crawlguard-Ledger-1A2B',
    });

    it('one message for the whole run: per instance the diff, the mounts, the approval id, its expiry and both commands', () => {
      const { subject, body } = approvalDigestMessage(
        digest([pending(2), pending(1, { restartMounts: [], instanceName: null })]),
      );
      expect(subject).toBe('crawlguard: 2 remediation(s) await approval (run run-42, digest 1)');
      expect(body).toContain('2 remediation(s) of run run-42 await a person (digest 1 of this run)');
      expect(body).toContain(
        '1. i-00000000000000001, episode 1: approval apv-0000000000000001, answer by 2026-11-07T13:00:00.000Z',
      );
      expect(body).toContain('2. i-00000000000000002 (web-2), episode 1: approval apv-0000000000000002');
      expect(body.match(/^ {3}updatedb\.conf: PRUNEFS append \+fuse\.s3fs$/gm)).toHaveLength(2);
      expect(body).toContain('restart s3fs on /srv/media');
      expect(body).toContain('restart s3fs: not planned');
      for (const id of ['apv-0000000000000001', 'apv-0000000000000002']) {
        expect(body).toContain(`npm run --silent approve -- ${id} --table crawlguard-Ledger-1A2B`);
        expect(body).toContain(`npm run --silent deny -- ${id} --reason TEXT --table crawlguard-Ledger-1A2B`);
      }
      expect(body).toContain('npm run --silent approvals -- --run run-42 --table crawlguard-Ledger-1A2B');
    });

    it('shows hostile tag values and check output escaped on one line', () => {
      const { body } = approvalDigestMessage(
        digest([pending(1, { instanceName: 'evil\nSubject: x\u001b[2J', summary: 'a\r\nb' })]),
      );
      expect(body).toContain('(evil\\nSubject: x\\u001b[2J)');
      expect(body).toContain('check mode: a\\r\\nb');
      expect(body).not.toContain('\u001b');
    });

    it('a run too large for 256 KiB lists what fits, says how many more and which command lists them all', () => {
      const many = Array.from({ length: 2000 }, (_, n) => pending(n + 1));
      const { body } = approvalDigestMessage(digest(many));
      const bytes = new TextEncoder().encode(body).length;
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
      const listed = body.match(/^\d+\. i-/gm)?.length ?? 0;
      expect(listed).toBeGreaterThan(100);
      expect(listed).toBeLessThan(2000);
      expect(body).toContain(
        `... and ${2000 - listed} more not listed here: the message would exceed SNS's 256 KiB.`,
      );
      expect(body).toContain(
        'They are all listed, with their approval ids, by: npm run --silent approvals -- --run run-42 --table crawlguard-Ledger-1A2B',
      );
      // Under a tighter budget the same rule holds.
      const small = approvalDigestMessage(digest(many.slice(0, 10)), 4096).body;
      expect(new TextEncoder().encode(small).length).toBeLessThanOrEqual(4096);
      expect(small).toMatch(/\.\.\. and \d+ more not listed here/);
    });
  });
});
