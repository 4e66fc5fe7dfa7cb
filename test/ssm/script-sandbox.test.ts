/**
 * The script sandbox itself: a fake command must never write through the link of a real tool of the
 * same name (that overwrote the host's /usr/bin/mv once).
 */
import { copyFileSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { which } from '#test/helpers/requirements.ts';
import { Sandbox } from '#test/helpers/script-sandbox.ts';

it('replaces a linked tool by the fake without touching the tool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crawlguard-tool-'));
  const box = new Sandbox();
  try {
    const tool = join(dir, 'tool');
    copyFileSync(which('true') ?? '/bin/true', tool);
    const before = readFileSync(tool);
    box.link('tool', tool);
    box.fake('tool', 'exit 3');
    expect(readFileSync(tool).equals(before)).toBe(true);
    expect(lstatSync(join(box.bin, 'tool')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(box.bin, 'tool'), 'utf8')).toContain('exit 3');
  } finally {
    box.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
