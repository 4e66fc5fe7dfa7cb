import { describe, expect, it } from 'vitest';
import { faultsLine, runFaults } from './faults.ts';

describe('runFaults on a small fleet', () => {
  it('injects every fault class, does nothing twice, loses nothing, and ends every episode in the ledger', async () => {
    const run = await runFaults({ hosts: 60, seed: 11, perClass: 2, days: 2 });

    expect(run.findings).toBeGreaterThanOrEqual(40);
    for (const [name, n] of Object.entries(run.byClass)) expect(n, name).toBeGreaterThan(0);
    expect(run.injected).toBe(Object.values(run.byClass).reduce((a, b) => a + b, 0));
    expect(run.duplicates).toBe(0);
    expect(run.lost).toBe(0);
    expect(run.ledgerComplete).toBe(true);
    expect(run.eligible).toBeLessThanOrEqual(run.findings);
    expect(run.remediated).toBeLessThanOrEqual(run.eligible);
    expect(run.remediated).toBeGreaterThan(0.5 * run.eligible);
    expect(run.outcomes.remediated).toBeGreaterThan(0);
    // The breaker trips once per storm and says so once, not per finding.
    expect(run.byClass['breaker-trips']).toBe(2);
    expect(faultsLine(run)).toMatch(
      /^faults: findings=\d+ eligible=\d+ injected=\d+ remediated=\d+ duplicates=0 lost=0 ledger=complete$/,
    );
  }, 300_000);
});
