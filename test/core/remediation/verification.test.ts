import { describe, expect, it } from 'vitest';
import {
  approvalDigestMessage,
  breakerMessage,
  type EpisodeReport,
  episodeMessage,
  needsPerson,
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

  it('approvals: one digest per scan run, each instance with its approval id and what would change', () => {
    const { subject, body } = approvalDigestMessage('run-42', [
      {
        approvalId: 'a-1',
        instanceId: 'i-0123456789abcdef0',
        summary: 'would change updatedb.conf: PRUNEFS append +fuse.s3fs',
        expiresAt: '2026-11-07T13:00:00Z',
      },
      {
        approvalId: 'a-2',
        instanceId: 'i-0123456789abcdef1',
        summary: 'would change updatedb.conf: PRUNEFS append +fuse.s3fs',
        expiresAt: '2026-11-07T13:00:00Z',
      },
    ]);
    expect(subject).toBe('crawlguard: 2 remediation(s) await approval (run run-42)');
    expect(body.match(/crawlguard approve a-\d --table TABLE/g)).toHaveLength(2);
    expect(body).toContain('i-0123456789abcdef1 (approval a-2, until 2026-11-07T13:00:00Z)');
  });
});
