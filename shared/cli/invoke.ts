#!/usr/bin/env node
/** Entry point of `npm run invoke`: see USAGE in invoke-command.ts. */
import { readFileSync } from 'node:fs';
import { runInvoke } from './invoke-command.ts';

const report = await runInvoke(process.argv.slice(2), {
  readFile: (path) => readFileSync(path, 'utf8'),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = report.exitCode;
