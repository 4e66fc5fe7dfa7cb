import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { itRequires, missingCommands } from '#test/helpers/requirements.ts';
import { SCRIPTS, SSM_DIR } from '#test/helpers/script-sandbox.ts';

const E2E_DIR = new URL('../e2e/', import.meta.url).pathname;
const itShellcheck = itRequires(missingCommands(['shellcheck']));

function shellcheck(args: string[]) {
  return spawnSync('shellcheck', ['--severity=style', ...args], { encoding: 'utf8' });
}

for (const script of [...Object.values(SCRIPTS), join(E2E_DIR, 'patch-batch.sh')]) {
  itShellcheck(`${script.split('/').slice(-2).join('/')} is shellcheck clean`, () => {
    const result = shellcheck([script]);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
}

itShellcheck('the shared helpers are shellcheck clean on their own', () => {
  const libs = readdirSync(join(SSM_DIR, 'lib')).map((file) => join(SSM_DIR, 'lib', file));
  // On their own the helpers' result variables look unused (SC2034); the scripts that embed them are checked above.
  const result = shellcheck(['--shell=bash', '--exclude=SC2034', ...libs]);
  expect(result.stdout).toBe('');
  expect(result.status).toBe(0);
});

itShellcheck('shellcheck does flag a bad script (the check is live)', () => {
  const result = spawnSync('shellcheck', ['-'], { input: '#!/bin/bash\nrm -rf $1/*\n', encoding: 'utf8' });
  expect(result.status).not.toBe(0);
  expect(result.stdout).toContain('SC2086');
});
