#!/usr/bin/env node
/**
 * `crawlguard <command>`: the project's commands under one name. Plain JavaScript that any Node.js runs
 * (the machine's may be 20, which cannot run .ts): it starts the command's TypeScript entry on the project's
 * Node 22 (the `node` devDependency that `npm ci` installs) and passes arguments, output and exit code
 * through.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const HELP = `usage: crawlguard <command> [arguments]

  analyze   read exported CloudWatch metrics (aws cloudwatch get-metric-data files) and say, per instance,
            whether NetworkOut shows a daily crawl or memory grows, with the numbers and a picture
              crawlguard analyze --metric network-out|memory [--tz ZONE] [--json] FILE...
  report    the same files as an HTML report (heatmaps, memory trends, estimated savings); needs no network
            to open; prints 'report: <path>' last
              crawlguard report --network-out FILE --memory FILE [--tz ZONE] [--report PATH]
  invoke    run one Lambda function of the stack with one event, as Lambda runs it, on the embedded
            simulated fleet (or --aws); nothing that would change an instance is sent
              crawlguard invoke <function> <event-file> [--aws] [--instances N]
  start     the whole pipeline on the embedded simulated fleet, as 'npm start' runs it (demo: the same)
  approve   approve a remediation waiting for a person, on a deployed stack
              crawlguard approve <approval-id> --table TABLE
  deny      deny one: the instance is then left alone for a while
              crawlguard deny <approval-id> --reason TEXT --table TABLE
  breaker   the fleet-wide circuit breaker of a deployed stack
              crawlguard breaker reset|status --table TABLE
  approvals the approvals a scan run asked for that still wait (what an approval digest names)
              crawlguard approvals --run RUN [--all] --table TABLE

'crawlguard <command> --help' tells a command's options and exit codes.
exit codes: 0 done, 1 failed (or, for invoke, the handler threw), 2 bad arguments or input`;

/** Each command's entry point (relative to the project) and the arguments put before the user's. */
const COMMANDS = {
  analyze: ['shared/cli/analyze.ts'],
  report: ['shared/cli/report.ts'],
  invoke: ['shared/cli/invoke.ts'],
  approve: ['shared/cli/operator.ts', 'approve'],
  deny: ['shared/cli/operator.ts', 'deny'],
  breaker: ['shared/cli/operator.ts', 'breaker'],
  approvals: ['shared/cli/operator.ts', 'approvals'],
};

/** Control and bidi characters shown as escapes, so an argument echoed back cannot act on the terminal. */
function printable(text) {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    const unsafe =
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x061c ||
      code === 0x200e ||
      code === 0x200f ||
      (code >= 0x2028 && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069);
    out += unsafe ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return out;
}

function fail(message, code) {
  process.stderr.write(`crawlguard: ${printable(message)}\n`);
  process.exit(code);
}

/** `npm start`'s command, which must be `node <script> [plain arguments]` (no shell syntax to interpret). */
function startCommand() {
  let script;
  try {
    script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts?.start;
  } catch (error) {
    fail(`cannot read ${join(ROOT, 'package.json')}: ${error.message}`, 1);
  }
  const words = typeof script === 'string' ? script.trim().split(/\s+/) : [];
  if (words[0] !== 'node' || words.length < 2 || /["'`$&|;<>(){}\\*?~]/.test(script)) {
    fail(`package.json's start script is not 'node <script> [arguments]': run 'npm start' instead`, 1);
  }
  return words.slice(1);
}

/** The project's Node 22, or this one when it can run TypeScript itself. */
function nodeBinary() {
  const local = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(local)) return local;
  if (process.features?.typescript) return process.execPath;
  fail(`Node.js 22 is not installed in ${ROOT}: run 'npm ci' there first`, 1);
}

/** The command and its arguments; `help <command>` is `<command> --help`. */
function parse(argv) {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(`${HELP}\n`);
    process.exit(2);
  }
  if (first === 'help' && rest.length > 0) return [rest[0], ['--help']];
  if (first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  return [first, rest];
}

const [name, args] = parse(process.argv.slice(2));
const start = name === 'start' || name === 'demo';
if (!start && !Object.hasOwn(COMMANDS, name)) {
  fail(
    `unknown command '${name}' (expected ${[...Object.keys(COMMANDS), 'start', 'demo'].join(', ')}; see crawlguard --help)`,
    2,
  );
}
const [entry, ...fixed] = start ? startCommand() : COMMANDS[name];
const node = nodeBinary();

// As npm runs scripts: start in the project folder (its paths are relative to it; INIT_CWD is where the
// user was), every command with the project's tools first on PATH.
const child = spawn(node, [join(ROOT, entry), ...fixed, ...args], {
  stdio: 'inherit',
  cwd: start ? ROOT : process.cwd(),
  env: {
    ...process.env,
    PATH: [join(ROOT, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(delimiter),
    ...(start ? { INIT_CWD: process.cwd() } : {}),
  },
});
const forward = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of forward) process.on(signal, () => child.kill(signal));
child.on('error', (error) => fail(`cannot run ${node}: ${error.message}`, 1));
child.on('exit', (code, signal) => {
  if (signal !== null) {
    // Die of the same signal, so that whoever started us sees what happened.
    for (const forwarded of forward) process.removeAllListeners(forwarded);
    process.kill(process.pid, signal);
    return;
  }
  process.exitCode = code ?? 1;
});
