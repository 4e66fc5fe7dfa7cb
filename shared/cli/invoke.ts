#!/usr/bin/env node
/** Entry point of `npm run invoke`: see USAGE in invoke-command.ts. */
import { MAX_EVENT_BYTES, runInvoke } from './invoke-command.ts';
import { readInputFile } from './read-input.ts';

const report = await runInvoke(process.argv.slice(2), {
  // Regular files only, and no larger than an event can be: /dev/zero or a FIFO answers in one line.
  readFile: (path) => readInputFile(path, MAX_EVENT_BYTES).toString('utf8'),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = report.exitCode;
