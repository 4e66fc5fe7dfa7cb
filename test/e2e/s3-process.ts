/** Starts test/e2e/s3-server.ts as a child process (in a network namespace) and talks to it over stdio. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { E2eError, stopChild } from './namespaces.ts';

export interface S3Stats {
  counts: Record<string, number>;
  total: number;
  objects: number;
}

const SERVER = fileURLToPath(new URL('./s3-server.ts', import.meta.url));

export class S3ServerProcess {
  #child: ChildProcess | undefined;
  #lines: Interface | undefined;
  #waiting: ((line: string) => void)[] = [];
  port = 0;

  async start(options: { netns: string; host: string; bucket: string; dirs: number; files: number }) {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        options.netns,
        process.execPath,
        SERVER,
        '--host',
        options.host,
        '--bucket',
        options.bucket,
        '--dirs',
        String(options.dirs),
        '--files',
        String(options.files),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    this.#child = child;
    if (child.stdout === null) throw new E2eError('the S3 server has no stdout');
    this.#lines = createInterface({ input: child.stdout });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
    const first = await this.#next('listening', 20_000);
    const { port } = JSON.parse(first) as { port: number };
    this.port = port;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #next(what: string, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new E2eError(`S3 server: no answer to ${what}`)), timeoutMs);
      this.#waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  async #ask<T>(command: Record<string, unknown>): Promise<T> {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || stdin === null) throw new E2eError('the S3 server is not running');
    const answer = this.#next(String(command.cmd));
    stdin.write(`${JSON.stringify(command)}\n`);
    return JSON.parse(await answer) as T;
  }

  stats(): Promise<S3Stats> {
    return this.#ask<S3Stats>({ cmd: 'stats' });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const answer = await this.#ask<{ found: boolean; base64?: string }>({ cmd: 'get', key });
    return answer.found ? Buffer.from(answer.base64 ?? '', 'base64') : undefined;
  }

  async delay(ms: number): Promise<void> {
    await this.#ask({ cmd: 'delay', ms });
  }

  async stop() {
    this.#lines?.close();
    if (this.#child !== undefined) await stopChild(this.#child);
    this.#child = undefined;
  }
}
