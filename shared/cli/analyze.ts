#!/usr/bin/env node
/** Entry point of `npm run analyze`: see USAGE in analyze-command.ts. */
import { runAnalyze } from './analyze-command.ts';
import { openInputFile } from './read-input.ts';

process.exitCode = runAnalyze(process.argv.slice(2), {
  openFile: (path, maxBytes) => openInputFile(path, maxBytes),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
