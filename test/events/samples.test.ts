import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readEvent } from '#test/support/handlers.ts';
import { generateSamples } from '#test/support/samples.ts';

describe('generated sample events', () => {
  it('are what the code produces today (else run: npx node test/support/write-samples.ts)', async () => {
    const samples = await generateSamples();
    expect(Object.keys(samples).length).toBeGreaterThanOrEqual(6);
    for (const [path, content] of Object.entries(samples))
      expect(readEvent(`events/${path}`), path).toEqual(content);
  });
});

describe('workflow-step samples', () => {
  it('cover every action the deployed workflows send the function', () => {
    const actions = new Set<string>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) for (const item of node) collect(item);
      else if (typeof node === 'object' && node !== null)
        for (const [key, value] of Object.entries(node)) {
          if (key === 'action' && typeof value === 'string') actions.add(value);
          else collect(value);
        }
    };
    for (const definition of ['remediation.asl.json', 'run-command.asl.json'])
      collect(JSON.parse(readFileSync(join(ROOT, definition), 'utf8')));
    const samples = readdirSync(join(ROOT, 'events/workflow-step')).map((file) =>
      file.replace(/(-busy)?\.json$/, ''),
    );

    expect([...new Set(samples)].sort()).toEqual([...actions].sort());
    for (const action of actions)
      expect(readEvent(`events/workflow-step/${action}.json`)).toMatchObject({ action });
  });
});
