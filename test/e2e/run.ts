/**
 * End-to-end proof of the SSM scripts against the real components (`npm run test:e2e`, as root):
 * a real s3fs FUSE mount (from an fstab line) of a bucket on an in-memory S3 server reached over a veth
 * pair, crawled by the real daily updatedb job, then fixed by patch-updatedb-conf.sh and restarted by
 * restart-s3fs.sh; plus the patcher on every distro default config and on thousands of generated ones,
 * each judged by the real updatedb. Nothing on the host changes: see namespaces.ts.
 *
 * Outside CI it skips (exit 0) with the reason when root, /dev/fuse or a command is missing; with
 * CI=true it fails instead.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IN_CI, missingCommands } from '#test/helpers/requirements.ts';
import { runRemediationLoop } from './loop.ts';
import { formatLoopLine, loopFailure } from './loop-line.ts';
import { E2eError, InstanceNamespace, quote, TestNetwork, waitFor } from './namespaces.ts';
import { runPatchProperties } from './patch-properties.ts';
import { S3ServerProcess } from './s3-process.ts';

const SSM_DIR = fileURLToPath(new URL('../../shared/ssm/', import.meta.url));
const PATCH = join(SSM_DIR, 'patch-updatedb-conf/patch-updatedb-conf.sh');
const RESTART = join(SSM_DIR, 'restart-s3fs/restart-s3fs.sh');
const DIAGNOSE = join(SSM_DIR, 'diagnose/diagnose.sh');
const BUCKET = 'crawlguard-test';
const DIRS = 30;
const FILES_PER_DIR = 100;
const WRITTEN_KEY = 'dir-00/written-during-restart.bin';

interface ScriptRun<T> {
  status: number;
  json: T;
}

interface RestartMount {
  mountPoint: string;
  status: string;
  method: string;
  holders: { pid: number; command: string }[];
  updatedbStopped: number[];
  rssKiBBefore: number | null;
  rssKiBAfter: number | null;
  daemonPidBefore: number | null;
  daemonPidAfter: number | null;
  verified: boolean;
}

interface RestartOutput {
  status: string;
  mounts: RestartMount[];
}

interface DiagnoseOutput {
  status: string;
  locate: { implementation: string };
  mounts: {
    mountPoint: string;
    crawled: boolean;
    crawlReason: string;
    mountedBy: string;
    daemonPid: number | null;
  }[];
  s3fsProcesses: {
    pid: number;
    mountPoint: string | null;
    rssKiB: number | null;
    statCacheExpire: number | null;
  }[];
  updatedbRunning: { pid: number; crawlingMount: string | null }[];
}

/** Runs diagnose.sh in the instance namespace and returns what it says about `mountPoint`. */
function diagnose(ns: InstanceNamespace, mountPoint: string) {
  const run = runScript<DiagnoseOutput>(ns, DIAGNOSE, {});
  check(run.status === 0 && run.json.status === 'ok', `diagnose: ${JSON.stringify(run.json)}`);
  const mount = run.json.mounts.find((m) => m.mountPoint === mountPoint);
  check(mount !== undefined, `diagnose does not list ${mountPoint}: ${JSON.stringify(run.json.mounts)}`);
  return { ...run.json, mount };
}

function progress(message: string) {
  process.stderr.write(`e2e: ${message}\n`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new E2eError(`check failed: ${message}`);
}

function requirements(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  return missingCommands([
    'unshare',
    'nsenter',
    'ip',
    's3fs',
    'updatedb',
    'run-parts',
    'fuser',
    'findmnt',
    'bash',
  ]);
}

/** Runs an SSM script inside the instance namespace with SSM_* parameters; parses its one JSON line. */
function runScript<T>(ns: InstanceNamespace, script: string, params: Record<string, string>): ScriptRun<T> {
  const env = Object.entries(params).map(([name, value]) => `SSM_${name}=${value}`);
  const result = ns.run(['env', ...env, 'bash', script], { check: false, timeoutMs: 300_000 });
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  check(
    lines.length === 1,
    `${script} printed ${lines.length} stdout lines: ${result.stdout}\n${result.stderr}`,
  );
  return { status: result.status, json: JSON.parse(lines[0] ?? '') as T };
}

/** Runs the real daily job and returns the S3 requests and veth bytes it caused. */
async function crawl(ns: InstanceNamespace, s3: S3ServerProcess, net: TestNetwork, dbDir: string) {
  const before = await s3.stats();
  const txBefore = net.clientTx();
  rmSync(join(dbDir, 'plocate.db'), { force: true });
  // The real cron job, and only it: run-parts filtered to /etc/cron.daily/plocate.
  ns.run(['run-parts', '--regex', '^plocate$', '/etc/cron.daily'], { timeoutMs: 600_000 });
  check(existsSync(join(dbDir, 'plocate.db')), 'the daily job wrote no database: it did not run');
  const after = await s3.stats();
  const txAfter = net.clientTx();
  const kinds: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.counts)) kinds[kind] = n - (before.counts[kind] ?? 0);
  return {
    requests: after.total - before.total,
    kinds,
    txBytes: txAfter.bytes - txBefore.bytes,
    txPackets: txAfter.packets - txBefore.packets,
  };
}

function rssOf(output: RestartOutput, mountPoint: string): RestartMount {
  const mount = output.mounts.find((m) => m.mountPoint === mountPoint);
  check(mount !== undefined, `no result for ${mountPoint}: ${JSON.stringify(output)}`);
  return mount;
}

async function main(): Promise<number> {
  const started = Date.now();
  const missing = requirements();
  if (missing !== null) {
    if (IN_CI) {
      console.error(`e2e: FAILED: requirement missing in CI: ${missing}`);
      return 1;
    }
    console.log(`e2e: SKIPPED: ${missing} (the end-to-end test needs root, /dev/fuse, unshare and s3fs)`);
    return 0;
  }
  const hostConf = existsSync('/etc/updatedb.conf') ? readFileSync('/etc/updatedb.conf') : undefined;
  const hostFstab = readFileSync('/etc/fstab');
  const id = randomBytes(3).toString('hex');
  const work = mkdtempSync(join(tmpdir(), 'crawlguard-e2e-'));
  const net = new TestNetwork(id);
  const ns = new InstanceNamespace();
  const s3 = new S3ServerProcess();
  const mountPoint = `/mnt/cg-${id}`;
  const bareMountPoint = `/mnt/cg-${id}-bare`;
  let writer: ReturnType<typeof spawn> | undefined;
  let crawler: ReturnType<typeof spawn> | undefined;
  try {
    progress(`namespaces ${net.serverNs} / ${net.clientNs}, veth ${net.serverIf} <-> ${net.clientIf}`);
    net.create();
    await s3.start({
      netns: net.serverNs,
      host: net.serverAddress,
      bucket: BUCKET,
      dirs: DIRS,
      files: FILES_PER_DIR,
    });
    check((await s3.stats()).objects === DIRS * FILES_PER_DIR, 'bucket not seeded');
    await ns.start(net.clientNs);
    ns.isolate(work);
    const options = [
      '_netdev',
      `url=http://${net.serverAddress}:${s3.port}`,
      'use_path_request_style',
      'passwd_file=/etc/passwd-s3fs-crawlguard',
      // A short stat cache makes the second crawl a real crawl, as the next day's is (LAB.md).
      'stat_cache_expire=1',
      // Writes over 5 MB go through multipart upload, s3fs's path for big files.
      'multipart_size=5',
    ].join(',');
    ns.bash(
      `printf 'crawlguard:test-secret\\n' >/etc/passwd-s3fs-crawlguard
      chmod 600 /etc/passwd-s3fs-crawlguard
      mkdir -p ${quote(mountPoint)} ${quote(bareMountPoint)}
      printf '%s\\n' ${quote(`${BUCKET} ${mountPoint} fuse.s3fs ${options} 0 0`)} >>/etc/fstab
      mount ${quote(mountPoint)}
      [[ $(findmnt -n -o FSTYPE ${quote(mountPoint)}) == fuse.s3fs ]]`,
    );
    progress(`s3fs mounted ${BUCKET} on ${mountPoint} from an fstab line; crawling with the default config`);

    const before = diagnose(ns, mountPoint);
    check(
      before.locate.implementation === 'plocate' &&
        before.mount.crawled &&
        before.mount.mountedBy === 'fstab',
      `diagnose before the crawl: ${JSON.stringify(before.mount)}`,
    );
    check(
      before.s3fsProcesses.some((p) => p.pid === before.mount.daemonPid && p.statCacheExpire === 1),
      `diagnose s3fs processes: ${JSON.stringify(before.s3fsProcesses)}`,
    );
    progress(`diagnose: ${mountPoint} crawled=${before.mount.crawled} (${before.mount.crawlReason})`);

    const defaultCrawl = await crawl(ns, s3, net, join(work, 'plocate'));
    progress(`default crawl: ${defaultCrawl.requests} requests ${JSON.stringify(defaultCrawl.kinds)}`);
    check(defaultCrawl.requests >= DIRS * FILES_PER_DIR, 'the default config did not crawl the whole bucket');

    const patch = runScript<{ status: string; changes: unknown[] }>(ns, PATCH, {
      Mode: 'apply',
      PruneFsTypes: 'fuse.s3fs',
      PrunePaths: '',
    });
    check(patch.status === 0 && patch.json.status === 'patched', `patch: ${JSON.stringify(patch)}`);
    const again = runScript<{ status: string }>(ns, PATCH, {
      Mode: 'apply',
      PruneFsTypes: 'fuse.s3fs',
      PrunePaths: '',
    });
    check(
      again.status === 0 && again.json.status === 'alreadyCompliant',
      `patch rerun: ${JSON.stringify(again)}`,
    );
    const fixed = diagnose(ns, mountPoint);
    check(
      !fixed.mount.crawled && /PRUNEFS has fuse\.s3fs/.test(fixed.mount.crawlReason),
      'diagnose after the patch',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const patchedCrawl = await crawl(ns, s3, net, join(work, 'plocate'));
    progress(`patched crawl: ${patchedCrawl.requests} requests`);
    check(
      patchedCrawl.requests === 0,
      `the patched config still crawled: ${JSON.stringify(patchedCrawl.kinds)}`,
    );

    // A writer holds a file open: the restart must defer, and every byte must reach the bucket.
    const content = randomBytes(12 * 1024 * 1024);
    writeFileSync(join(work, 'part1'), content.subarray(0, 7 * 1024 * 1024));
    writeFileSync(join(work, 'part2'), content.subarray(7 * 1024 * 1024));
    const target = `${mountPoint}/${WRITTEN_KEY}`;
    const [enter = 'nsenter', ...enterArgs] = ns.enter();
    writer = spawn(
      enter,
      [
        ...enterArgs,
        'bash',
        '-c',
        'exec 3>"$1"; cat "$2" >&3; echo opened; read -r _; cat "$3" >&3; exec 3>&-; echo closed',
        'writer',
        target,
        join(work, 'part1'),
        join(work, 'part2'),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let writerOut = '';
    writer.stdout?.on('data', (chunk: Buffer) => {
      writerOut += chunk.toString();
    });
    await waitFor('the writer to open its file', () => writerOut.includes('opened'), 60_000);
    const deferred = runScript<RestartOutput>(ns, RESTART, { Mode: 'apply', Mounts: mountPoint });
    const deferredMount = rssOf(deferred.json, mountPoint);
    check(
      deferred.status === 3 && deferred.json.status === 'deferred',
      `restart with writer: ${JSON.stringify(deferred)}`,
    );
    check(
      deferredMount.holders.some((holder) => holder.pid === writer?.pid),
      `the writer ${writer.pid} is not listed: ${JSON.stringify(deferred.json)}`,
    );
    check(
      ns.bash(`findmnt -n -o FSTYPE ${quote(mountPoint)}`).stdout.trim() === 'fuse.s3fs',
      'mount gone after deferral',
    );
    progress(`restart deferred while pid ${writer.pid} writes: ${JSON.stringify(deferredMount.holders)}`);
    const writerExit = new Promise<number | null>((resolve) => writer?.once('exit', (code) => resolve(code)));
    writer.stdin?.end('go\n');
    check((await writerExit) === 0 && writerOut.includes('closed'), 'the writer failed');
    const stored = await s3.get(WRITTEN_KEY);
    let bytesLost = content.length;
    if (stored !== undefined) {
      let same = 0;
      for (let i = 0; i < Math.min(stored.length, content.length); i++) if (stored[i] === content[i]) same++;
      bytesLost = content.length - same + Math.max(0, stored.length - content.length);
    }
    progress(
      `after close: object ${stored === undefined ? 'missing' : `${stored.length} bytes`}, lost ${bytesLost}`,
    );

    // A second, bare s3fs process (no fstab line): the restart must re-run its command line.
    ns.bash(
      `s3fs ${BUCKET} ${quote(bareMountPoint)} -o ${quote(options.replace('_netdev,', ''))}
      [[ $(findmnt -n -o FSTYPE ${quote(bareMountPoint)}) == fuse.s3fs ]]`,
    );
    // An updatedb crawling the mount right now (slowed down by the server) must be stopped, never s3fs.
    await s3.delay(30);
    const crawlStart = (await s3.stats()).total;
    crawler = spawn(enter, [...enterArgs, 'updatedb', '-U', mountPoint, '-o', join(work, 'slow.db')], {
      stdio: 'ignore',
    });
    const crawlerPid = crawler.pid;
    let crawlerExited = false;
    crawler.once('exit', () => {
      crawlerExited = true;
    });
    const deadline = Date.now() + 30_000;
    while ((await s3.stats()).total < crawlStart + 20) {
      check(Date.now() < deadline && !crawlerExited, 'the slow crawl did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const during = diagnose(ns, mountPoint);
    check(
      during.updatedbRunning.some((u) => u.pid === crawlerPid && u.crawlingMount === mountPoint),
      `diagnose does not see the crawl: ${JSON.stringify(during.updatedbRunning)}`,
    );
    const restart = runScript<RestartOutput>(ns, RESTART, { Mode: 'apply', Mounts: '' });
    await s3.delay(0);
    const main = rssOf(restart.json, mountPoint);
    const bare = rssOf(restart.json, bareMountPoint);
    progress(`restart: ${JSON.stringify(restart.json)}`);
    check(restart.status === 0 && restart.json.status === 'restarted', `restart: ${JSON.stringify(restart)}`);
    check(main.method === 'fstab' && bare.method === 'process', 'wrong mount methods');
    check(main.updatedbStopped.includes(crawlerPid ?? -1), `updatedb ${crawlerPid} was not stopped`);
    await waitFor('the stopped updatedb to exit', () => crawlerExited, 10_000);
    check(main.verified && bare.verified, 'remount not verified');
    check(main.daemonPidAfter !== null && main.daemonPidAfter !== main.daemonPidBefore, 'no new s3fs daemon');
    const rssBefore = main.rssKiBBefore ?? 0;
    const rssAfter = main.rssKiBAfter ?? 0;
    check(rssAfter > 0 && rssAfter < rssBefore, `s3fs RSS did not drop: ${rssBefore} -> ${rssAfter}`);
    check(
      ns.bash(`ls ${quote(`${mountPoint}/dir-00`)} | wc -l`).stdout.trim() === String(FILES_PER_DIR + 1),
      'the remounted bucket does not list the written object',
    );

    // The whole loop on this instance: back to the default config (crawled), one s3fs mount from fstab.
    ns.run(['umount', bareMountPoint]);
    if (hostConf === undefined) ns.run(['rm', '-f', '/etc/updatedb.conf']);
    else ns.run(['bash', '-c', 'cat >/etc/updatedb.conf'], { input: hostConf.toString('utf8') });
    check(diagnose(ns, mountPoint).mount.crawled, 'the default config is back: the mount is crawled again');
    const loop = await runRemediationLoop({
      ns,
      mountPoint,
      objects: DIRS * FILES_PER_DIR,
      work,
      crawl: () => crawl(ns, s3, net, join(work, 'plocate')),
      progress,
    });
    progress(`loop: ${loop.reason}`);

    progress('patcher on distro defaults and generated configs, judged by the real updatedb');
    const properties = await runPatchProperties(work);
    progress(properties.summary);

    check(bytesLost === 0, `${bytesLost} bytes lost`);
    const hostConfAfter = existsSync('/etc/updatedb.conf') ? readFileSync('/etc/updatedb.conf') : undefined;
    check(
      hostConf?.equals(hostConfAfter ?? Buffer.alloc(0)) ?? hostConfAfter === undefined,
      "the host's /etc/updatedb.conf changed",
    );
    check(hostFstab.equals(readFileSync('/etc/fstab')), "the host's /etc/fstab changed");
    console.log(
      `e2e: crawl requests default=${defaultCrawl.requests} patched=${patchedCrawl.requests}; ` +
        `s3fs rss before=${rssBefore}KiB after=${rssAfter}KiB; bytes lost=${bytesLost}`,
    );
    console.log(
      `e2e: veth NetworkOut (tx of ${net.clientIf}, the instance side) default crawl=${defaultCrawl.txBytes}B ` +
        `(${defaultCrawl.txPackets} packets) patched crawl=${patchedCrawl.txBytes}B (${patchedCrawl.txPackets} packets)`,
    );
    console.log(formatLoopLine(loop.summary));
    const loopProblem = loopFailure(loop.summary);
    check(loopProblem === null, `the remediation loop did not prove the fix: ${loopProblem}`);
    progress(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    for (const child of [writer, crawler]) {
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
    }
    await cleanup(ns, net, s3, [mountPoint, bareMountPoint]);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Unmounts our s3fs mounts, ends every process left in the test namespace by PID, removes the namespaces. */
async function cleanup(ns: InstanceNamespace, net: TestNetwork, s3: S3ServerProcess, mounts: string[]) {
  try {
    for (const mount of mounts) {
      ns.run(['umount', mount], { check: false });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const pid of ns.members()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch (error) {
    progress(`cleanup: ${String(error)}`);
  }
  await ns.stop();
  await s3.stop();
  net.destroy();
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('e2e: FAILED:', error);
    process.exitCode = 1;
  },
);
