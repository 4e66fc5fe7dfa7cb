import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedFleet } from '#shared/sim/fleet.ts';
import type { ExternalCommand, ExternalHost, ExternalScriptResult } from '#shared/sim/host.ts';
import { hostSpec } from './host-support.ts';
import { hostFleet, run } from './run-command-support.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});

/** A stand-in for a real machine: records what it is asked to run and answers as told. */
function recordingHost(answer: (command: ExternalCommand) => ExternalScriptResult) {
  const commands: ExternalCommand[] = [];
  const host: ExternalHost = {
    series: (_kind, startMs) => ({
      timestamps: Float64Array.from([startMs + 300_000]),
      values: Float64Array.from([42]),
    }),
    runShellScript: (command) => {
      commands.push(command);
      return answer(command);
    },
  };
  return { host, commands };
}

describe('a host whose scripts run outside the model (HostSpec.external)', () => {
  it('gets the pinned document version and the parameters with their defaults; its stdout comes back as printed', async () => {
    const printed = 'Welcome\n{"status":"patched","changed":true}\n';
    const { host, commands } = recordingHost(() => ({
      exitCode: 0,
      stdout: printed,
      stderr: '',
      durationMs: 1_234,
    }));
    const spec = hostSpec({ external: host });
    fleet = hostFleet([spec]);
    const result = await run(fleet, spec.instanceId, 'patch-updatedb-conf', { Mode: 'apply' });
    expect(result.result.Status).toBe('Success');
    expect(result.result.ResponseCode).toBe(0);
    expect(result.result.StandardOutputContent).toBe(printed);
    expect(commands).toHaveLength(1);
    const [command] = commands;
    expect(command?.documentName).toBe('crawlguard-patch-updatedb-conf');
    expect(command?.parameters).toEqual({ Mode: 'apply', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' });
    // The agent writes runCommand joined by newlines: the real script, byte for byte.
    const script = readFileSync(
      new URL('../../shared/ssm/patch-updatedb-conf/patch-updatedb-conf.sh', import.meta.url),
      'utf8',
    );
    expect(`${command?.content.mainSteps[0]?.inputs.runCommand.join('\n')}\n`).toBe(script);
    // The model's host is left alone: nothing the real script did is applied to it.
    expect(fleet.runCommand.invocation(result.commandId, spec.instanceId)?.applied).toEqual([]);
  });

  it("a non-zero exit is Failed with the exit code as ResponseCode, its stderr and the agent's line", async () => {
    const { host } = recordingHost(() => ({
      exitCode: 3,
      stdout: '{"status":"deferred"}\n',
      stderr: 'holders: 4242\n',
      durationMs: 10,
    }));
    const spec = hostSpec({ external: host });
    fleet = hostFleet([spec]);
    const result = await run(fleet, spec.instanceId, 'restart-s3fs', { Mode: 'apply' });
    expect(result.result.Status).toBe('Failed');
    expect(result.result.ResponseCode).toBe(3);
    expect(result.output).toEqual({ status: 'deferred' });
    expect(result.result.StandardErrorContent).toBe('holders: 4242\nfailed to run commands: exit status 3');
  });

  it("answers the host's metrics", () => {
    const { host } = recordingHost(() => ({ exitCode: 0, stdout: '', stderr: '', durationMs: 1 }));
    const spec = hostSpec({ external: host });
    fleet = hostFleet([spec]);
    const series = fleet.hosts.get(spec.instanceId)?.series('network-out', 0, 600_000, 900_000);
    expect(Array.from(series?.values ?? [])).toEqual([42]);
  });
});
