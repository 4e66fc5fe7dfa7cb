#!/usr/bin/env node
/** Entry point of `crawlguard report`: see REPORT_USAGE in report-command.ts. */
import { openInputFile } from './read-input.ts';
import { runReport } from './report-command.ts';
import { writeFilesAtomically } from './write-files.ts';

process.exitCode = runReport(process.argv.slice(2), {
  cwd: process.cwd(),
  now: () => new Date(),
  openFile: (path, maxBytes) => openInputFile(path, maxBytes),
  writeFiles: writeFilesAtomically,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
