/**
 * What `npm test` needs besides node_modules, found or made ready before any test runs:
 * - a Redis: REDIS_URL (or 127.0.0.1:6379) when it answers; otherwise a private redis-server on a
 *   free loopback port with no persistence, stopped when the run ends. A Redis we did not start is
 *   only ever used under the tests' own key prefixes.
 * - Chromium: CHROMIUM_PATH or the usual Debian paths; never a browser download.
 * Missing programs are installed with apt when the run is root and apt exists; otherwise the run
 * stops with one line naming what is missing and the command that installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

export class MissingPrerequisite extends Error {}

export interface RedisForTests {
  url: string;
  /** True when this run started the server (and so must stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/** Sends PING and waits for +PONG, bounded: a Redis that does not answer in time is not there. */
export function redisAnswers(url: string, timeoutMs = 700): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      // A Redis with a password answers -NOAUTH: it is there, and the URL's credentials are the tests' business.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

function onPath(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const found = spawnSync('/bin/sh', ['-c', `command -v ${command}`], { encoding: 'utf8', env: { PATH: env.PATH ?? '' } });
  return found.status === 0 ? found.stdout.trim() || null : null;
}

function canAptInstall(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0 && onPath('apt-get') !== null;
}

let aptUpdated = false;
function aptInstall(pkg: string, log: (line: string) => void): void {
  log(`installing ${pkg} with apt-get (once; needed by the test suite)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    aptUpdated = true;
  }
  const result = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
  if (result.status !== 0) throw new MissingPrerequisite(`npm test needs ${pkg}, and 'apt-get install -y ${pkg}' failed (exit ${result.status}); install it, then run npm test again`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function ensureRedis(options: { url?: string; log?: (line: string) => void } = {}): Promise<RedisForTests> {
  const log = options.log ?? (() => {});
  const wanted = options.url ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(wanted)) return { url: wanted, started: false, stop: async () => {} };

  let binary = onPath('redis-server');
  if (!binary) {
    if (!canAptInstall()) {
      throw new MissingPrerequisite(`npm test needs Redis: nothing answers at ${new URL(wanted).host} and redis-server is not installed; install it with 'sudo apt-get install -y redis-server' (or set REDIS_URL to a running Redis)`);
    }
    aptInstall('redis-server', log);
    binary = onPath('redis-server');
    if (!binary) throw new MissingPrerequisite("npm test needs redis-server, which apt installed but is not on PATH; run 'sudo apt-get install -y redis-server'");
  }

  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; attempt < 100 && !(await redisAnswers(url, 200)); attempt++) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!(await redisAnswers(url, 500))) {
    child.kill('SIGKILL');
    throw new MissingPrerequisite(`npm test started ${binary} on port ${port}, but it did not answer; run it by hand to see why`);
  }
  log(`no Redis answered at ${new URL(wanted).host}; started a private redis-server on ${url} for this run`);
  return {
    url,
    started: true,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium', '/snap/bin/chromium'];

export function findChromium(env: NodeJS.ProcessEnv = process.env, candidates = CHROMIUM_CANDIDATES): string | null {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  return candidates.find((candidate) => existsSync(candidate)) ?? onPath('chromium', env) ?? onPath('chromium-browser', env);
}

export function ensureChromium(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void; allowInstall?: boolean; candidates?: string[] } = {}): string {
  const env = options.env ?? process.env;
  const candidates = options.candidates ?? CHROMIUM_CANDIDATES;
  const log = options.log ?? (() => {});
  if (env.CHROMIUM_PATH && !existsSync(env.CHROMIUM_PATH)) {
    throw new MissingPrerequisite(`CHROMIUM_PATH is ${env.CHROMIUM_PATH}, which does not exist; point it at a Chromium binary or unset it`);
  }
  const found = findChromium(env, candidates);
  if (found) return found;
  if (!(options.allowInstall ?? canAptInstall())) {
    throw new MissingPrerequisite("npm test needs Chromium for its browser tests and found none; install it with 'sudo apt-get install -y chromium' (or set CHROMIUM_PATH)");
  }
  aptInstall('chromium', log);
  const installed = findChromium(env, candidates);
  if (!installed) throw new MissingPrerequisite("npm test needs Chromium, which apt installed but was not found; set CHROMIUM_PATH to its binary");
  return installed;
}
