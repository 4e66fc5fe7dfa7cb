import { describe, expect, it } from 'vitest';
import {
  formatLoopLine,
  LoopLineError,
  type LoopSummary,
  loopFailure,
  parseLoopLine,
} from '#test/e2e/loop-line.ts';

const EXAMPLE =
  'e2e loop: mode=apply finding=updatedb-crawl decision=remediate diagnose=ok patch=patched restart=restarted verify=resolved crawl requests before=3181 after=0';
const resolved: LoopSummary = {
  mode: 'apply',
  finding: 'updatedb-crawl',
  decision: 'remediate',
  diagnose: 'ok',
  patch: 'patched',
  restart: 'restarted',
  verify: 'resolved',
  requestsBefore: 3181,
  requestsAfter: 0,
};

describe('the e2e loop line', () => {
  it('has its fields in the fixed order, and reads back', () => {
    expect(formatLoopLine(resolved)).toBe(EXAMPLE);
    expect(parseLoopLine(EXAMPLE)).toEqual(resolved);
    const other = {
      ...resolved,
      patch: 'alreadyCompliant',
      restart: 'none',
      verify: 'not-resolved',
      requestsAfter: 12,
    };
    expect(parseLoopLine(formatLoopLine(other))).toEqual(other);
  });

  it.each([
    ['fields in another order', EXAMPLE.replace('diagnose=ok patch=patched', 'patch=patched diagnose=ok')],
    ['a field missing', EXAMPLE.replace(' restart=restarted', '')],
    ['a field more', `${EXAMPLE} extra=1`],
    ['a trailing space', `${EXAMPLE} `],
    ['another prefix', EXAMPLE.replace('e2e loop:', 'e2e:')],
    ['a count that is not one', EXAMPLE.replace('after=0', 'after=-1')],
    ['a count with leading zeros', EXAMPLE.replace('before=3181', 'before=03181')],
    ['an empty value', EXAMPLE.replace('verify=resolved', 'verify=')],
    ['a count too large to be exact', EXAMPLE.replace('before=3181', `before=${'9'.repeat(20)}`)],
  ])('refuses a line with %s', (_, line) => {
    expect(() => parseLoopLine(line)).toThrow(LoopLineError);
  });

  it.each([
    ['a value with a space', { ...resolved, verify: 'not resolved' }],
    ['a value with =', { ...resolved, decision: 'a=b' }],
    ['an empty value', { ...resolved, finding: '' }],
    ['a negative count', { ...resolved, requestsAfter: -1 }],
    ['a fractional count', { ...resolved, requestsBefore: 1.5 }],
  ])('will not write %s', (_, summary) => {
    expect(() => formatLoopLine(summary)).toThrow(LoopLineError);
  });

  it('passes only an applied, remediated fix verified resolved with no request after it', () => {
    expect(loopFailure(parseLoopLine(EXAMPLE))).toBeNull();
    expect(loopFailure({ ...resolved, verify: 'inconclusive' })).toBe('verify inconclusive');
    expect(loopFailure({ ...resolved, requestsAfter: 3 })).toBe('the crawl after the fix made 3 requests');
    expect(loopFailure({ ...resolved, requestsBefore: 0 })).toBe('the crawl before the fix made no request');
    expect(loopFailure({ ...resolved, mode: 'dry-run', patch: 'none' })).toBe(
      'mode dry-run, not apply; patch none',
    );
    expect(loopFailure({ ...resolved, decision: 'skip' })).toBe('decision skip');
  });
});
