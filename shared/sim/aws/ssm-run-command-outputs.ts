/**
 * The JSON each crawlguard document prints on stdout, as zod schemas: shared/ssm/README.md's tables, with
 * the fields the scripts print beyond them (`document`, `outputVersion`, `exitCode`,
 * `s3fsProcessesTruncated`). Strict: a missing, extra or mistyped field fails. The Run Command simulator
 * builds its outputs with these types, and test/sim checks both its outputs and the real scripts' against
 * them.
 */
import * as z from 'zod';

const nullableString = z.string().nullable();

const header = <D extends string>(document: D) => ({
  document: z.literal(document),
  outputVersion: z.literal(1),
});

// --- diagnose ---------------------------------------------------------------------------------------------

const diagnoseSummary = z.strictObject({
  networkMounts: z.number().int().min(0),
  s3fsMounts: z.number().int().min(0),
  crawledMounts: z.number().int().min(0),
  updatedbRunning: z.boolean(),
});
const diagnoseLocate = z.strictObject({
  implementation: z.enum(['plocate', 'mlocate', 'findutils', 'unknown', 'none']),
  updatedbPath: nullableString,
  version: nullableString,
  /** How the implementation was named: null for none/unknown. */
  identifiedBy: z.enum(['version', 'executable', 'package']).nullable(),
});
const diagnoseSchedule = z.strictObject({
  cronDaily: z.strictObject({
    script: nullableString,
    exitsUnderSystemd: z.boolean(),
    addsNodevFilesystems: z.boolean(),
  }),
  crontabDailyTime: nullableString,
  anacron: z.strictObject({
    present: z.boolean(),
    line: nullableString,
    startHoursRange: nullableString,
    randomDelay: nullableString,
  }),
  cronDaemon: z.enum(['running', 'installed', 'absent']),
  systemdTimer: z
    .strictObject({
      unit: z.string(),
      unitFile: z.string(),
      onCalendar: nullableString,
      randomizedDelaySec: nullableString,
      persistent: nullableString,
      source: z.enum(['systemctl', 'unitFiles']),
      enabled: nullableString,
      active: nullableString,
      lastTrigger: nullableString,
      nextElapse: nullableString,
    })
    .nullable(),
  effective: z.enum(['systemdTimer', 'cronDaily', 'none', 'unknown']),
});

export const diagnoseMountSchema = z.strictObject({
  mountPoint: z.string(),
  type: z.string(),
  source: z.string(),
  mountedBy: z.enum(['fstab', 'systemdMount', 'systemdService', 'process', 'unknown']),
  unit: nullableString,
  fstabLine: nullableString,
  daemonPid: z.number().int().nullable(),
  crawled: z.boolean().nullable(),
  crawlReason: z.string(),
});

export const diagnoseOutputSchema = z.union([
  z.strictObject({
    ...header('crawlguard-diagnose'),
    status: z.literal('ok'),
    summary: diagnoseSummary,
    host: z.strictObject({
      hostname: nullableString,
      kernel: nullableString,
      osId: nullableString,
      osVersionId: nullableString,
      osPrettyName: nullableString,
      initSystem: z.enum(['systemd', 'other']),
    }),
    locate: diagnoseLocate,
    schedule: diagnoseSchedule,
    lastRun: z.strictObject({ database: z.string(), modified: nullableString }).nullable(),
    config: z.strictObject({
      path: z.literal('/etc/updatedb.conf'),
      exists: z.boolean(),
      fileType: z.enum([
        'regular',
        'absent',
        'fifo',
        'directory',
        'socket',
        'characterDevice',
        'blockDevice',
        'other',
      ]),
      pruneFs: z.array(z.string()).max(120),
      pruneFsTruncated: z.boolean(),
      prunePaths: z.array(z.string()).max(60),
      prunePathsTruncated: z.boolean(),
      pruneNames: z.array(z.string()).max(30),
      pruneBindMounts: nullableString,
      error: nullableString,
    }),
    mounts: z.array(diagnoseMountSchema).max(40),
    mountsTruncated: z.boolean(),
    s3fsProcesses: z
      .array(
        z.strictObject({
          pid: z.number().int(),
          mountPoint: nullableString,
          rssKiB: z.number().int().nullable(),
          maxStatCacheSize: z.number().int().nullable(),
          statCacheExpire: z.number().int().nullable(),
          optionNames: z.array(z.string()).max(40),
        }),
      )
      .max(20),
    s3fsProcessesTruncated: z.boolean(),
    updatedbRunning: z
      .array(
        z.strictObject({
          pid: z.number().int(),
          command: z.string(),
          cwd: nullableString,
          crawlingMount: nullableString,
        }),
      )
      .max(10),
    exitCode: z.literal(0),
  }),
  // Over 23,000 characters: only the verdicts.
  z.strictObject({
    ...header('crawlguard-diagnose'),
    status: z.literal('ok'),
    summary: diagnoseSummary,
    locate: diagnoseLocate,
    schedule: diagnoseSchedule,
    outputTruncated: z.literal(true),
    exitCode: z.literal(0),
  }),
  z.strictObject({
    ...header('crawlguard-diagnose'),
    status: z.literal('failed'),
    reason: z.string(),
    exitCode: z.literal(1),
  }),
]);
export type DiagnoseOutput = z.infer<typeof diagnoseOutputSchema>;
/** The complete diagnosis (not cut, not failed). */
export type Diagnosis = Extract<DiagnoseOutput, { mounts: unknown }>;

// --- patch-updatedb-conf -------------------------------------------------------------------------------------

export const PATCH_EXIT_CODES = {
  alreadyCompliant: 0,
  patched: 0,
  notInstalled: 0,
  nonCompliant: 0,
  failed: 1,
  badParameters: 2,
  busy: 3,
  refused: 4,
} as const;

export const patchOutputSchema = z
  .strictObject({
    ...header('crawlguard-patch-updatedb-conf'),
    mode: z.enum(['check', 'apply']).nullable(),
    status: z.enum([
      'alreadyCompliant',
      'nonCompliant',
      'patched',
      'notInstalled',
      'refused',
      'failed',
      'badParameters',
      'busy',
    ]),
    compliant: z.boolean(),
    changed: z.boolean(),
    configPath: z.string(),
    configExisted: z.boolean(),
    locateImplementation: z.enum(['plocate', 'mlocate', 'findutils', 'unknown', 'none']).nullable(),
    updatedbPath: nullableString,
    pruneFsRequested: z.array(z.string()).max(20),
    prunePathsRequested: z.array(z.string()).max(20),
    missingPruneFs: z.array(z.string()).max(20),
    missingPrunePaths: z.array(z.string()).max(20),
    changes: z.array(
      z.strictObject({
        variable: z.enum(['PRUNEFS', 'PRUNEPATHS']),
        action: z.enum(['edited', 'added']),
        line: z.number().int().min(1),
        added: z.array(z.string()).max(40),
      }),
    ),
    backupPath: nullableString,
    validated: z.boolean().nullable(),
    validation: z.enum(['parse', 'emptyRun']).nullable(),
    restored: z.boolean(),
    reason: z.string().max(2000).nullable(),
    updatedbMessage: z.string().max(2000).nullable(),
    outputTruncated: z.literal(true).optional(),
    exitCode: z.number().int(),
  })
  .refine((output) => output.exitCode === PATCH_EXIT_CODES[output.status], {
    message: 'exitCode does not match status (shared/ssm/README.md, exit codes)',
  });
export type PatchOutput = z.infer<typeof patchOutputSchema>;

// --- restart-s3fs ----------------------------------------------------------------------------------------------

export const RESTART_EXIT_CODES = {
  restarted: 0,
  checked: 0,
  nothingToDo: 0,
  failed: 1,
  badParameters: 2,
  deferred: 3,
  busy: 3,
  refused: 4,
} as const;

export const restartMountSchema = z.strictObject({
  mountPoint: z.string(),
  source: nullableString,
  type: nullableString,
  status: z.enum(['restarted', 'ready', 'deferred', 'refused', 'failed', 'notMounted', 'skipped']),
  reason: nullableString,
  method: z.enum(['fstab', 'systemdMount', 'systemdService', 'process', 'unknown']),
  unit: nullableString,
  methodDetail: z.string().max(500).nullable(),
  holders: z.array(z.strictObject({ pid: z.number().int(), command: z.string() })).max(20),
  holdersTruncated: z.boolean(),
  holderSource: z.enum(['fuser+proc', 'lsof+proc', 'proc']).nullable(),
  updatedbCrawling: z.array(z.number().int()).max(20),
  updatedbStopped: z.array(z.number().int()).max(20),
  daemonPidBefore: z.number().int().nullable(),
  daemonPidAfter: z.number().int().nullable(),
  rssKiBBefore: z.number().int().nullable(),
  rssKiBAfter: z.number().int().nullable(),
  oldDaemonExited: z.boolean().nullable(),
  remountAttempts: z.number().int().min(0),
  verified: z.boolean(),
  warnings: z.array(z.string()).max(10),
});
export type RestartMount = z.infer<typeof restartMountSchema>;

export const restartOutputSchema = z
  .strictObject({
    ...header('crawlguard-restart-s3fs'),
    mode: z.enum(['check', 'apply']).nullable(),
    status: z.enum([
      'restarted',
      'checked',
      'nothingToDo',
      'failed',
      'badParameters',
      'deferred',
      'busy',
      'refused',
    ]),
    mounts: z.array(restartMountSchema).max(20),
    mountsTruncated: z.boolean(),
    reason: z.string().max(2000).nullable(),
    exitCode: z.number().int(),
  })
  .refine((output) => output.exitCode === RESTART_EXIT_CODES[output.status], {
    message: 'exitCode does not match status (shared/ssm/README.md, exit codes)',
  });
export type RestartOutput = z.infer<typeof restartOutputSchema>;

/** The output schema of each document, by its short name. */
export const OUTPUT_SCHEMAS = {
  diagnose: diagnoseOutputSchema,
  'patch-updatedb-conf': patchOutputSchema,
  'restart-s3fs': restartOutputSchema,
} as const;
