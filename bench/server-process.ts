/**
 * Runs a server in its own Node process, as in production, so the load generator (this process)
 * and the server under test do not share one event loop. Servers run compiled JavaScript from
 * dist/ (`npm run build`, as `npm start` does): no TypeScript loader in the measured process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/** utime + stime of a process so far, in milliseconds (proc(5): fields 14 and 15, in clock ticks). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * Read and write system calls of a process so far (proc(5): syscr, syscw in /proc/<pid>/io: read,
 * pread, readv…; write, pwrite, writev…). On this VM a syscall is tens of microseconds, so these
 * explain much of a login's CPU: socket writes to clients and Redis, WAL frames on SQLite.
 */
export function ioSyscallsOf(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { reads: count('syscr'), writes: count('syscw') };
}

/** Resident set size now, in MiB (proc(5): VmRSS). */
export function rssMiBOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Resident memory now by kind, in MiB (proc(5): RssAnon is the heap, RssFile includes SQLite's memory-mapped pages). */
export function rssPartsOf(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { anon: kib('RssAnon'), file: kib('RssFile') + kib('RssShmem') };
}

/** File-backed mappings holding at least `minMiB` resident, by file, in MiB (proc(5): smaps). */
export function residentFilesOf(pid: number, minMiB = 2): Record<string, number> {
  const byFile: Record<string, number> = {};
  let file: string | null = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (mapping) file = mapping[1].startsWith('/') ? path.basename(mapping[1]) : null;
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && file) byFile[file] = (byFile[file] ?? 0) + Number(rss[1]) / 1024;
  }
  return Object.fromEntries(Object.entries(byFile).filter(([, mib]) => mib >= minMiB).map(([name, mib]) => [name, Math.round(mib)]));
}

/** sysconf(_SC_CLK_TCK) is 100 on every Linux build Node supports. */
const CLOCK_TICKS = 100;

/** Starts `node <script>` (compiled JavaScript under dist/) with env and waits until `readyPath` answers 200. */
export async function startServerProcess(script: string, env: Record<string, string>, url: string, readyPath = '/readyz', extraFlags: string[] = []): Promise<ServerProcess> {
  const file = path.resolve(root, script);
  if (!existsSync(file)) throw new Error(`${script} is missing: run \`npm run build\` first (npm run bench does)`);
  // BENCH_SERVER_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/profile", profiles the server under load.
  const flags = [...(process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []), ...extraFlags];
  const child = spawn(process.execPath, [...flags, file], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited: ${stderr}`);
    try {
      if ((await fetch(`${url}${readyPath}`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${script} did not become ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
