/**
 * The SCIM benchmark's create phase alone, as `npm run bench` runs it: a cold server, N Okta
 * creates (lookup + POST) from 8 concurrent clients, no warm-up. Prints creates/s, p50/p99, the
 * server's CPU per create (/proc) and the load generator's, and the load average around it, so
 * one change can be compared with another back to back on a shared machine.
 * The event-loop thread's time is split into running, waiting for a CPU (another process had it)
 * and the rest (idle or blocked, e.g. in a checkpoint's fsync), from /proc/<pid>/schedstat.
 *   npx tsx bench/scim-cold-creates.ts [sqlite|redis] [creates] [concurrency]
 * CLIENT=node drives it with node:http (http-client.ts) instead of the raw client the benchmark uses;
 * LABEL tags the output line.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CLI_ACTOR } from '../server/domain/actor.ts';
import type { StoreKind } from '../test/support/test-server.ts';
import { request } from './http-client.ts';
import { rawRequest } from './raw-http-client.ts';
import { startLatchkey } from './latchkey-under-test.ts';
import { oktaCreate } from './scim-bench.ts';
import { cpuMsOf } from './server-process.ts';
import { drive } from './stats.ts';

/** User and system CPU of a process so far, ms (proc(5) stat fields 14, 15). */
function userSysOf(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

/** The event-loop thread's time on a CPU and waiting for one (proc(5) schedstat, ns). */
function schedOf(pid: number) {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { runMs: run / 1e6, waitMs: wait / 1e6 };
}

const store = (process.argv[2] ?? 'sqlite') as StoreKind;
const creates = Number(process.argv[3] ?? 10_000);
const concurrency = Number(process.argv[4] ?? 8);

const server = await startLatchkey(store);
try {
  const { token } = await server.services.scimTokens.create({ name: 'cold' }, CLI_ACTOR);
  const create = oktaCreate(`${server.url}/scim/v2`, token, process.env.CLIENT === 'node' ? request : rawRequest);
  const serverBefore = cpuMsOf(server.process.pid);
  const schedBefore = schedOf(server.process.pid);
  const serverUserSysBefore = userSysOf(server.process.pid);
  const clientBefore = process.cpuUsage();
  const loadBefore = os.loadavg()[0];
  const result = await drive(creates, concurrency, async (index) => void (await create(`user${index}@bench.example.com`)));
  const serverMs = cpuMsOf(server.process.pid) - serverBefore;
  const client = process.cpuUsage(clientBefore);
  const schedAfter = schedOf(server.process.pid);
  const wallMs = result.seconds * 1000;
  console.log(JSON.stringify({
    store,
    label: process.env.LABEL ?? '',
    creates: result.count,
    errors: result.errors,
    perSecond: Math.round(result.perSecond),
    p50ms: Number(result.p50.toFixed(2)),
    p99ms: Number(result.p99.toFixed(2)),
    maxms: Number(result.latencies[result.latencies.length - 1].toFixed(1)),
    serverCpuMsPerCreate: Number((serverMs / result.count).toFixed(3)),
    serverBusy: Number((serverMs / 1000 / result.seconds).toFixed(2)),
    // Of the wall time, the share the event-loop thread ran and waited for a CPU; the rest it slept.
    loopRun: Number(((schedAfter.runMs - schedBefore.runMs) / wallMs).toFixed(2)),
    loopRunQueue: Number(((schedAfter.waitMs - schedBefore.waitMs) / wallMs).toFixed(2)),
    clientUserSys: `${(client.user / 1000 / result.count).toFixed(3)}/${(client.system / 1000 / result.count).toFixed(3)}`,
    serverUserSys: `${((userSysOf(server.process.pid).user - serverUserSysBefore.user) / result.count).toFixed(3)}/${((userSysOf(server.process.pid).sys - serverUserSysBefore.sys) / result.count).toFixed(3)}`,
    clientCpuMsPerCreate: Number(((client.user + client.system) / 1000 / result.count).toFixed(3)),
    load: `${loadBefore.toFixed(2)} -> ${os.loadavg()[0].toFixed(2)}`,
  }));
} finally {
  await server.close();
}
process.exit(0);
