#!/usr/bin/env node
/** Entry point of `npm run analyze`: see USAGE in analyze-command.ts. */
import { readFileSync } from 'node:fs';
import { runAnalyze } from './analyze-command.ts';

process.exitCode = runAnalyze(process.argv.slice(2), {
  readFile: (path) => readFileSync(path, 'utf8'),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
