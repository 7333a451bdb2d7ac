/**
 * The real server process, what `npm start` runs (`tsx server/main.ts`, here as
 * `node --import tsx server/main.ts` so the test signals the server itself), for tests of
 * start-up, shutdown and crash behaviour. startServerProcess waits for the "listening" log line;
 * runServerUntilExit runs one that is expected to refuse to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(root, 'server', 'main.ts');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends the signal (default SIGTERM) and resolves with the exit code once the process ended. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function baseEnv(env: Record<string, string>): Promise<Record<string, string>> {
  const port = env.PORT ?? String(await freePort());
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: port,
    PUBLIC_URL: `http://localhost:${port}`,
    ...env,
  };
}

function spawnServer(env: Record<string, string>) {
  // `tsx server/main.ts` runs node with tsx's loader in a child process; loading it into node
  // directly is the same program in ONE process, so a signal (kill -9 included) reaches the server.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? null : code))));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

export async function startServerProcess(options: { env: Record<string, string>; timeoutMs?: number }): Promise<ServerProcess> {
  const env = await baseEnv(options.env);
  const run = spawnServer(env);
  const output = () => run.stdout() + run.stderr();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`server did not start within ${options.timeoutMs ?? 60_000} ms:\n${output()}`));
    }, options.timeoutMs ?? 60_000);
    const check = () => {
      if (/Latchkey listening on/.test(run.stdout())) {
        clearTimeout(timer);
        run.child.stdout!.off('data', check);
        resolve();
      }
    };
    run.child.stdout!.on('data', check);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
  return {
    url: `http://127.0.0.1:${env.PORT}`,
    child: run.child,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      return run.exited;
    },
  };
}

export async function runServerUntilExit(options: { env: Record<string, string>; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnServer(await baseEnv(options.env));
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
