/**
 * `npm run bench`: every benchmark with its baseline measured in the same run, results printed
 * and written to BENCHMARKS.md. Not part of `npm test`. BENCH_LOGINS / BENCH_CONCURRENCY scale it.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchBareProvider, benchLatchkeyLogin } from './login-bench.ts';
import { ms, type LoadResult } from './stats.ts';
import { benchScim, type ScimBenchResult } from './scim-bench.ts';

const logins = Number(process.env.BENCH_LOGINS ?? 1500);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

const row = (name: string, result: LoadResult, floor?: LoadResult) =>
  `| ${name} | ${result.count} | ${result.errors} | ${result.perSecond.toFixed(0)} | ${ms(result.p50)} | ${ms(result.p99)} | ${floor ? `${(result.perSecond / floor.perSecond).toFixed(2)}×` : 'baseline'} |`;

async function main(): Promise<void> {
  console.log(`login benchmark: ${logins} logins, ${concurrency} concurrent, Node ${process.version}, ${os.cpus().length} cores`);
  const floor = await benchBareProvider(logins, concurrency);
  console.log('bare oidc-provider', floor);
  const sqlite = await benchLatchkeyLogin('sqlite', logins, concurrency);
  console.log('latchkey sqlite', sqlite);
  const redis = await benchLatchkeyLogin('redis', logins, concurrency);
  console.log('latchkey redis', redis);

  const scimUsers = Number(process.env.BENCH_SCIM_USERS ?? 10_000);
  const scimBig = Number(process.env.BENCH_SCIM_BIG ?? 100_000);
  const scim: ScimBenchResult[] = [];
  for (const store of ['sqlite', 'redis'] as const) {
    const result = await benchScim(store, { users: scimUsers, bigUsers: scimBig });
    console.log(`scim ${store}`, result);
    scim.push(result);
  }
  const scimRows = scim
    .map((result) => `| ${result.store} | ${result.creates.perSecond.toFixed(0)} (${result.creates.errors} errors) | ${result.groups.perSecond.toFixed(1)} | ${ms(result.lookups10k.p50)} / ${ms(result.lookups10k.p99)} | ${ms(result.lookups100k.p50)} / ${ms(result.lookups100k.p99)} | ${(result.lookups100k.p50 / result.lookups10k.p50).toFixed(2)}× |`)
    .join('\n');
  const extra = `
## SCIM provisioning (issue 3)

${scimUsers} users created the way Okta does it (\`GET /Users?filter=userName eq …\` lookup, then
\`POST /Users\` with Okta's body; the pair counts as one create), then 100 groups each created empty
and filled with 100 members in one PATCH, all from 8 concurrent clients. Then 2,000 \`userName eq\`
lookups (8 concurrent) against ${scimUsers} users, and again after ${scimBig - scimUsers} more users
were written directly to the store. Targets: ≥ 1,000 creates/s on SQLite; lookup p50 at the large
size ≤ 1.5× the p50 at the small size (the baseline of the same run).

| store | creates/s | groups/s | lookup p50 / p99 at ${scimUsers} | lookup p50 / p99 at ${scimBig} | p50 ratio |
|---|---|---|---|---|---|
${scimRows}
`;
  const report = `# Benchmarks

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${os.cpus().length} cores
(${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB. Load generator and servers share the machine.

## Passkey login (issue 2)

${logins} complete logins, ${concurrency} at a time, after a 50-login warm-up. A Latchkey login is
authorize → login page (which carries the passkey options) → ES256 assertion (software
authenticator) → verify → resume → code → token → userinfo. The floor is the same code flow (authorize → interaction →
code → token → userinfo) on a bare oidc-provider, in-memory adapter, login finished in code with
no page, passkey or store: what the library itself costs here. Target: ≥ 0.7× the floor on SQLite.

Each server runs in its own process; the load generator (this process) uses a keep-alive
node:http client and signs assertions with a software ES256 authenticator.

What separates Latchkey from the floor, per login: one more HTTP round trip (the login page, which
carries the passkey options), a WebAuthn signature verification, and about a dozen durable writes
(interaction, session, grant, code, token, challenge put/take, passkey counter, audit entry) that
the floor keeps in the library's in-memory LRU. That persistence is what lets any number of
instances share sessions and survive restarts; the floor cannot do either.

| run | logins | errors | logins/s | p50 | p99 | vs floor |
|---|---|---|---|---|---|---|
${row('bare oidc-provider (floor)', floor)}
${row('Latchkey, SQLite', sqlite, floor)}
${row('Latchkey, Redis', redis, floor)}
${extra}`;
  const file = path.resolve(import.meta.dirname, '../BENCHMARKS.md');
  writeFileSync(file, report);
  console.log(`written ${file}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
