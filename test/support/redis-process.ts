/**
 * A private redis-server for fault tests (kill, restart, outage). Never the shared one on 6379:
 * each call starts its own process on a free port, and only that process is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './server-process.ts';

export interface RedisProcess {
  port: number;
  url: string;
  /** The running redis-server's process id (null while stopped): benchmarks read its CPU from /proc. */
  readonly pid: number | null;
  /** Starts it (again) on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Ends it with the signal (default SIGKILL) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startRedisProcess(options: { port?: number; start?: boolean; persistDir?: string } = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  // Persistence only when the test is about surviving a restart: every write fsynced, so even kill -9 keeps it.
  const persistence = options.persistDir ? ['--dir', options.persistDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let child: ChildProcess | null = null;
  const redis: RedisProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? null;
    },
    async start() {
      if (child) return;
      child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const client = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.ping();
          client.disconnect();
          return;
        } catch {
          client.disconnect();
          if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(signal);
      await exited;
    },
  };
  if (options.start !== false) await redis.start();
  return redis;
}
