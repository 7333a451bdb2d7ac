/**
 * The SCIM create phase alone, measured the way a shared machine allows: the server's own CPU per
 * create from /proc/<pid>/stat (utime + stime), the load generator's CPU beside it, store round
 * trips per create from /metrics, and the load average while it ran. One "create" is Okta's pair:
 * the `userName eq` lookup, then POST /Users with Okta's body (scim-bench.ts).
 *   npx tsx bench/scim-create-probe.ts [sqlite|redis] [creates] [concurrency]
 * BENCH_SERVER_SCRIPT / BENCH_SERVER_FLAGS work as for every benchmark (server-process.ts), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/profile` for a profile of the server under this load.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CLI_ACTOR } from '../server/domain/actor.ts';
import type { StoreKind } from '../test/support/test-server.ts';
import { rawRequest } from './raw-http-client.ts';
import { startLatchkey } from './latchkey-under-test.ts';
import { oktaCreate } from './scim-bench.ts';
import { cpuMsOf } from './server-process.ts';
import { drive } from './stats.ts';

const store = (process.argv[2] ?? 'sqlite') as StoreKind;
const creates = Number(process.argv[3] ?? 4000);
const concurrency = Number(process.argv[4] ?? 8);
const warmUp = Math.min(1000, creates / 4);

/** SQL statements run so far by the server, when it runs with bench/sql-count.cjs preloaded. */
async function sqlCounts(pid: number): Promise<Map<string, number>> {
  const file = process.env.SQL_COUNT_FILE;
  if (!file) return new Map();
  process.kill(pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 300));
  return new Map(JSON.parse(readFileSync(file, 'utf8')) as [string, number][]);
}

const perCreateOf = (before: Map<string, number>, after: Map<string, number>, count: number) =>
  Object.fromEntries([...after].map(([key, n]): [string, number] => [key, (n - (before.get(key) ?? 0)) / count]).filter(([, n]) => n > 0.001).sort((a, b) => b[1] - a[1]).map(([key, n]) => [key, Number(n.toFixed(2))]));

const sum = (calls: Map<string, number>) => [...calls.values()].reduce((total, count) => total + count, 0);

const server = await startLatchkey(store);
try {
  const { token } = await server.services.scimTokens.create({ name: 'probe' }, CLI_ACTOR);
  const create = oktaCreate(`${server.url}/scim/v2`, token, rawRequest);
  await drive(warmUp, concurrency, async (index) => void (await create(`warm${index}@probe.example.com`)));
  const callsBefore = await server.storeCalls();
  const sqlBefore = await sqlCounts(server.process.pid);
  const serverBefore = cpuMsOf(server.process.pid);
  const clientBefore = process.cpuUsage();
  const loadBefore = os.loadavg()[0];
  const result = await drive(creates, concurrency, async (index) => void (await create(`user${index}@probe.example.com`)));
  const serverMs = cpuMsOf(server.process.pid) - serverBefore;
  const client = process.cpuUsage(clientBefore);
  const loadAfter = os.loadavg()[0];
  const callsAfter = await server.storeCalls();
  const sqlAfter = await sqlCounts(server.process.pid);
  console.log(JSON.stringify({
    store,
    creates: result.count,
    errors: result.errors,
    firstError: result.firstError,
    perSecond: Math.round(result.perSecond),
    p50ms: Number(result.p50.toFixed(2)),
    serverCpuMsPerCreate: Number((serverMs / result.count).toFixed(3)),
    clientCpuMsPerCreate: Number(((client.user + client.system) / 1000 / result.count).toFixed(3)),
    storeCallsPerCreate: Number(((sum(callsAfter) - sum(callsBefore)) / result.count).toFixed(2)),
    storeCalls: perCreateOf(callsBefore, callsAfter, result.count),
    ...(process.env.SQL_COUNT_FILE ? { sqlPerCreate: Number(((sum(sqlAfter) - sum(sqlBefore)) / result.count).toFixed(2)), sql: perCreateOf(sqlBefore, sqlAfter, result.count) } : {}),
    load: `${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)}`,
  }));
} finally {
  await server.close();
}
process.exit(0);
