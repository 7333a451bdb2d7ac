/**
 * The `latchkey okta …` commands as an operator runs them: a real CLI process on the test
 * server's store, talking to the Okta emulator. JSON on success; one line and a non-zero exit
 * on failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { startOktaSim, type OktaSim } from '../okta-sim/okta-sim.ts';
import { OKTA_SYNC_QUEUE } from '../../server/edges/okta/okta-sync.ts';
import { addPasskey, createPerson } from '../support/builders.ts';
import { parseCliJson, runCli, type CliResult } from '../support/cli.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const latchkey = (server: TestServer, ...args: string[]) => runCli(args, server.env, { timeoutMs: 60_000 });
const json = (result: CliResult) => parseCliJson([], result);

describe.each(STORE_KINDS)('latchkey okta (CLI, %s)', (store) => {
  let sim: OktaSim;
  let server: TestServer;

  beforeAll(async () => {
    sim = await startOktaSim();
    server = await startTestServer({ store });
  });

  afterAll(async () => {
    await server?.close();
    await sim?.close();
  });

  it('names the domain when the domain is wrong, and quotes Okta when the token is wrong', async () => {
    const admin = await latchkey(server, 'okta', 'configure', '--domain', 'https://dev-123-admin.okta.com', '--token', sim.token);
    expect(admin.code).toBe(1);
    expect(admin.stdout).toBe('');
    expect(admin.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^latchkey: Okta domain "dev-123-admin\.okta\.com" is the admin console: drop "-admin"/)]);

    const unreachable = await latchkey(server, 'okta', 'configure', '--domain', 'http://127.0.0.1:9', '--token', sim.token);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^latchkey: Okta domain http:\/\/127\.0\.0\.1:9 cannot be reached/)]);

    const token = await latchkey(server, 'okta', 'configure', '--domain', sim.url, '--token', 'not-a-token');
    expect(token.code).toBe(1);
    expect(token.stderr.trim().split('\n')).toEqual([`latchkey: Okta token rejected by ${sim.url}: Invalid token provided (E0000011); create a new API token in Okta under Security > API > Tokens`]);
    expect(await server.services.store.settings.get('okta.connection')).toBeNull();
  }, 60_000);

  it('configures, reports status, sets up and diagnoses from the command line', async () => {
    const configured = await latchkey(server, 'okta', 'configure', '--domain', sim.url, '--token', sim.token);
    expect(configured.code).toBe(0);
    const output = json(configured);
    expect(output).toMatchObject({ domain: sim.url, token: 'stored encrypted', token_owner: { login: 'admin@example.com' } });
    expect(configured.stdout).not.toContain(sim.token);
    expect(await server.services.store.settings.get('okta.connection')).not.toContain(sim.token);

    const plan = json(await latchkey(server, 'okta', 'setup', '--dry-run'));
    expect(plan.steps.every((step: { action: string }) => step.action === 'would_create')).toBe(true);
    const setup = await latchkey(server, 'okta', 'setup', '--group', 'Passkey people');
    expect(setup.code).toBe(0);
    expect(json(setup).warnings[0]).toMatch(/super administrator/);
    expect(json(await latchkey(server, 'okta', 'setup', '--group', 'Passkey people')).changed).toBe(false);

    const doctor = await latchkey(server, 'okta', 'doctor');
    const report = json(doctor);
    expect(report.checks.find((check: { check: string }) => check.check === 'routing_rule').status).toBe('pass');
    // No admin holds a passkey in this store yet: a failing check, one line, non-zero exit.
    expect(doctor.code).toBe(1);
    expect(doctor.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^latchkey: okta doctor found \d+ failing check\(s\): .*admins_with_passkeys/)]);

    const status = json(await latchkey(server, 'okta', 'status'));
    expect(status).toMatchObject({ connection: { configured: true, domain: sim.url, check: { ok: true } }, queue: { pending: 0, failed: 0 } });
  }, 120_000);

  it('records an Okta update when a passkey is revoked from the CLI', async () => {
    const identity = await createPerson(server, 'cli-revoke@example.com', { actor: CLI_ACTOR });
    const passkey = await addPasskey(server.services, identity.id);
    const revoked = await latchkey(server, 'passkeys', 'revoke', passkey.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await server.services.store.jobs.get(OKTA_SYNC_QUEUE, identity.id)).toMatchObject({ state: 'pending', payload: { identityId: identity.id } });
  });
});
