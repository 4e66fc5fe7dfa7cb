#!/usr/bin/env node
/** Entry point of `npm start` (and `crawlguard start|demo`): see START_USAGE in start-command.ts. */
import { runPipeline } from '#shared/local/pipeline.ts';
import { runStart } from './start-command.ts';
import { writeFilesAtomically } from './write-files.ts';

process.exitCode = await runStart(process.argv.slice(2), {
  cwd: process.env.INIT_CWD ?? process.cwd(),
  run: runPipeline,
  writeFiles: writeFilesAtomically,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
