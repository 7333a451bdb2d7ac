/**
 * The real server as an operator runs it: what `npm start` runs (`node [its flags] dist/server/main.js`, one
 * process, so the child's pid is the
 * server's and a signal, kill -9 included, reaches the server itself; package.json is checked so
 * the two cannot drift apart), configured only through its environment, and observed only from
 * outside (its HTTP port, its exit code, its JSON log lines). Used by the start-up, shutdown and
 * crash tests (test/ops) and the wiring tests (test/server).
 * - The port is a free one found just before the start; a lost race (EADDRINUSE) is retried.
 * - "Started" means the server logged its "listening" line (pino JSON at LOG_LEVEL info), or, if
 *   a test raises LOG_LEVEL above info, that /healthz answers.
 * - Every child is tracked and SIGKILLed (with its process group) at the end of the test file and
 *   when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { startScript } from './start-script.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** The data directory the server was given (created here unless the test passed one). */
  dataDir: string;
  /** Everything written so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** stdout's JSON log lines, parsed (non-JSON lines are skipped). */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first log line (parsed) that matches; rejects on timeout or exit. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends the signal (default SIGTERM) and resolves with the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Added to (and overriding) the defaults: NODE_ENV=test, LOG_LEVEL=info, PORT, PUBLIC_URL, DATA_DIR. */
  env?: Record<string, string>;
  /** Kept after stop(); without it a fresh temporary directory is used and removed on stop(). */
  dataDir?: string;
  startTimeoutMs?: number;
  /** The same as startTimeoutMs. */
  timeoutMs?: number;
}

const children = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function killAll(): void {
  for (const child of children) killGroup(child, 'SIGKILL');
  children.clear();
}

process.once('exit', killAll);
// Registered at import time, i.e. while the importing test file is being collected.
if (process.env.VITEST) afterAll(killAll);

/**
 * `npm start` as one process: node on the compiled entry that package.json's start script names
 * (`npm test` builds it first, as `npm start` does).
 */
export function startCommand(): string[] {
  const { flags, entry: relative } = startScript();
  const entry = path.join(ROOT, relative);
  if (!existsSync(entry)) throw new Error(`server-process: ${relative} is missing; run \`npm run build\` (npm test does)`);
  return [process.execPath, ...flags, entry];
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Only what a shell gives any program; nothing Latchkey reads leaks in from the test runner. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'];
  return Object.fromEntries(keep.flatMap((key) => (process.env[key] === undefined ? [] : [[key, process.env[key]!]])));
}

function spawnServer(env: Record<string, string>): ChildProcess {
  const [command, ...args] = startCommand();
  const child = spawn(command, args, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function parseLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });

const LOUD_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

export async function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt < 3 && (error as { portTaken?: boolean }).portTaken) continue;
      throw error;
    }
  }
}

async function startOnce(options: StartOptions): Promise<ServerProcess> {
  const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
  const dataDir = options.dataDir ?? options.env?.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'latchkey-process-'));
  const ownsDataDir = !options.dataDir && !options.env?.DATA_DIR;
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: String(port), PUBLIC_URL: `http://localhost:${port}`, DATA_DIR: dataDir, ...options.env };
  const child = spawnServer(env);
  let output = '';
  let stdout = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    notify();
  });
  const exit = exited(child);
  exit.then(notify, notify);

  const logs = () => parseLines(stdout);
  function waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = logs().find(match);
        if (found) return done(() => resolve(found));
        if (child.exitCode !== null || child.signalCode !== null) return done(() => reject(new Error(`server exited (${child.exitCode ?? child.signalCode}) before the awaited log line; output:\n${output}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${output}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  }

  const url = env.PUBLIC_URL === `http://localhost:${port}` ? `http://localhost:${port}` : `http://127.0.0.1:${port}`;
  const timeoutMs = options.startTimeoutMs ?? options.timeoutMs ?? 60_000;
  try {
    if (LOUD_LEVELS.has(env.LOG_LEVEL)) await waitForHealth(`http://127.0.0.1:${port}`, child, timeoutMs);
    else await waitForLog((line) => /listening/i.test(String(line.msg ?? '')), timeoutMs);
  } catch (error) {
    killGroup(child, 'SIGKILL');
    await exit;
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw Object.assign(new Error(`the server did not start: ${(error as Error).message}`), { portTaken: /EADDRINUSE/.test(output) });
  }

  let stopping: Promise<number | null> | null = null;
  return {
    url,
    port,
    child,
    dataDir,
    output: () => output,
    logs,
    waitForLog,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping ??= (async () => {
        if (signal === 'SIGKILL') killGroup(child, 'SIGKILL');
        else if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        // A graceful stop that hangs is a failure the caller sees in the code; never leave it running.
        const hung = setTimeout(() => killGroup(child, 'SIGKILL'), 20_000);
        const code = await exit;
        clearTimeout(hung);
        // Make sure nothing the server started outlives it.
        killGroup(child, 'SIGKILL');
        if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
        return code;
      })();
      return stopping;
    },
  };
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode})`);
    const healthy = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/healthz did not answer within ${timeoutMs} ms`);
}

/** Runs the server to its own exit (e.g. a refused configuration); SIGKILLs it after timeoutMs. */
export async function runServerUntilExit(options: { env: Record<string, string>; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnServer({ NODE_ENV: 'test', LOG_LEVEL: 'info', ...options.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, timeoutMs);
  const code = await exited(child);
  clearTimeout(timer);
  killGroup(child, 'SIGKILL');
  if (timedOut) throw new Error(`the server was still running after ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`);
  return { code, stdout, stderr };
}

/**
 * The store of a server process, opened in the test process with the same environment (as the
 * CLI does beside a running server): for setting up state before a start and for looking at what
 * the server did.
 */
export async function openServicesFor(env: Record<string, string>) {
  const { loadConfig } = await import('../../server/config.ts');
  const { createServices, openStore } = await import('../../server/bootstrap.ts');
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  const store = await openStore(config);
  return { services: createServices(config, store), close: () => store.close() };
}
