/**
 * `npm run bench`: every benchmark with its baseline measured in the same run, results printed
 * and each table written into BENCHMARKS.md between its markers (`<!-- bench:login -->` …
 * `<!-- /bench:login -->`), leaving the prose around it alone. Not part of `npm test`.
 * BENCH_LOGINS / BENCH_CONCURRENCY / BENCH_ROUNDS / BENCH_IDENTITIES scale the login benchmark;
 * BENCH_ONLY=login or BENCH_ONLY=scim runs one of the two.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchLogins, type LoginBenchRow } from './login-bench.ts';
import { ms } from './stats.ts';
import { benchScim, type ScimBenchResult } from './scim-bench.ts';

const logins = Number(process.env.BENCH_LOGINS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const identities = Number(process.env.BENCH_IDENTITIES ?? 100_000);
const only = process.env.BENCH_ONLY;
const file = path.resolve(import.meta.dirname, '../BENCHMARKS.md');

/** Replaces what stands between `<!-- bench:name -->` and `<!-- /bench:name -->`; false when the markers are missing. */
function writeBetweenMarkers(name: string, text: string): boolean {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const current = readFileSync(file, 'utf8');
  const start = current.indexOf(open);
  const end = current.indexOf(close);
  if (start < 0 || end < start) return false;
  writeFileSync(file, `${current.slice(0, start + open.length)}\n${text}\n${current.slice(end)}`);
  return true;
}

const machine = () => `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
const fixed = (value: number | null, digits = 1) => (value === null ? '–' : value.toFixed(digits));

/** Rows: the floor first, then the passkey floor (the lower bound), then Latchkey's. */
function loginTable(rows: LoginBenchRow[]): string {
  const [floor, lowerBound] = rows;
  const versus = (row: LoginBenchRow, base: LoginBenchRow) => (row === base ? 'baseline' : `${(row.cpuMsPerLogin / base.cpuMsPerLogin).toFixed(2)}×`);
  const lines = rows.map((row, index) =>
    `| ${row.name} | ${row.load.count} | ${row.load.errors} | ${row.load.perSecond.toFixed(0)} | ${ms(row.load.p50)} | ${ms(row.load.p99)} | ${row.cpuMsPerLogin.toFixed(2)} | ${versus(row, floor)} | ${index === 0 ? '–' : versus(row, lowerBound)} | ${row.redisCpuMsPerLogin === null ? '–' : row.redisCpuMsPerLogin.toFixed(2)} | ${fixed(row.storeCallsPerLogin)} | ${row.syscallsPerLogin.reads.toFixed(0)} / ${row.syscallsPerLogin.writes.toFixed(0)} | ${row.rssIdleMiB.toFixed(0)} MiB | ${row.rssAfterMiB.toFixed(0)} MiB |`,
  );
  return [
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}; ${logins} logins per server, ${concurrency} at a time, in ${rounds} interleaved rounds, ${identities} identities in each store.`,
    '',
    '| run | logins | errors | logins/s | p50 | p99 | server CPU ms/login | CPU vs floor | CPU vs lower bound | redis-server CPU ms/login | store round trips/login | read / write syscalls/login | RSS idle | RSS after |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}

async function main(): Promise<void> {
  if (only !== 'scim') {
    console.log(`login benchmark: ${logins} logins, ${concurrency} concurrent, ${rounds} rounds, ${identities} identities, ${machine()}`);
    const rows = await benchLogins({ logins, concurrency, rounds, identities });
    for (const row of rows) {
      const { latencies: _latencies, ...load } = row.load;
      console.log(row.name, { ...load, cpuMsPerLogin: row.cpuMsPerLogin, redisCpuMsPerLogin: row.redisCpuMsPerLogin, storeCallsPerLogin: row.storeCallsPerLogin, syscallsPerLogin: row.syscallsPerLogin, rssIdleMiB: row.rssIdleMiB, rssAfterMiB: row.rssAfterMiB, rssAfterParts: row.rssAfterParts });
      if (row.storeCallBreakdown.length > 0) console.log('  store calls per login:', row.storeCallBreakdown.map(([key, count]) => `${key} ${count.toFixed(2)}`).join(', '));
    }
    const table = loginTable(rows);
    console.log(table);
    if (!writeBetweenMarkers('login', table)) console.log('BENCHMARKS.md has no <!-- bench:login --> markers: table printed only');
  }
  if (only !== 'login') {
    const scimUsers = Number(process.env.BENCH_SCIM_USERS ?? 10_000);
    const scimBig = Number(process.env.BENCH_SCIM_BIG ?? 100_000);
    const scim: ScimBenchResult[] = [];
    for (const store of ['sqlite', 'redis'] as const) {
      const result = await benchScim(store, { users: scimUsers, bigUsers: scimBig });
      console.log(`scim ${store}`, result);
      scim.push(result);
    }
    const table = [
      `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}; ${scimUsers} creates from 8 keep-alive clients (bench/raw-http-client.ts), lookups at ${scimUsers} and ${scimBig} users.`,
      '',
      `| store | creates/s | groups/s | lookup p50 / p99 at ${scimUsers} | lookup p50 / p99 at ${scimBig} | p50 ratio |`,
      '|---|---|---|---|---|---|',
      ...scim.map((result) => `| ${result.store} | ${result.creates.perSecond.toFixed(0)} (${result.creates.errors} errors) | ${result.groups.perSecond.toFixed(1)} | ${ms(result.lookups10k.p50)} / ${ms(result.lookups10k.p99)} | ${ms(result.lookups100k.p50)} / ${ms(result.lookups100k.p99)} | ${(result.lookups100k.p50 / result.lookups10k.p50).toFixed(2)}× |`),
    ].join('\n');
    console.log(table);
    if (!writeBetweenMarkers('scim', table)) console.log('BENCHMARKS.md has no <!-- bench:scim --> markers: table printed only');
  }
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
