import { describe, expect, it } from 'vitest';
import { readEvent } from '#test/support/handlers.ts';
import { generateSamples } from '#test/support/samples.ts';

describe('generated sample events', () => {
  it('are what the code produces today (else run: npx node test/support/write-samples.ts)', async () => {
    const samples = await generateSamples();
    expect(Object.keys(samples).length).toBeGreaterThanOrEqual(6);
    for (const [path, content] of Object.entries(samples))
      expect(readEvent(`events/${path}`), path).toEqual(content);
  });
});
