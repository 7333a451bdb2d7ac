/**
 * The passkey policy over HTTP and the CLI, on both stores: set from the CLI (JSON, dry run,
 * one-line errors), applied at once by another instance on the same store, enforced at sign-in
 * for passkeys created before it tightened (group overrides loosen for their members; several
 * overrides combine strictly), and managed from the console API with a preview first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { createPerson, enrollPerson, TEST_ACTOR } from '../support/builders.ts';
import { browse, CookieJar, pageData, signInOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { cliFor } from '../support/cli.ts';
import { CHANGE_DELIVERY_MS } from '../../server/ports/storage.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { createAuthenticatorPolicies } from '../../server/domain/authenticator-policies.ts';

describe.each(STORE_KINDS)('passkey policy (%s)', (store) => {
  let server: TestServer;
  let other: TestServer;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  let cli: ReturnType<typeof cliFor>;
  const synced = () => new SoftAuthenticator({ origin: server.url, backupEligible: true });
  const deviceBound = () => new SoftAuthenticator({ origin: server.url, backupEligible: false });

  beforeAll(async () => {
    server = await startTestServer({ store });
    // A second instance on the same store (same SQLite file, same Redis prefix) and PUBLIC_URL, as behind a balancer.
    other = await startTestServer({ store, dataDir: server.dataDir, keepData: true, env: { PUBLIC_URL: server.url, ...(store === 'redis' ? { REDIS_KEY_PREFIX: server.env.REDIS_KEY_PREFIX } : {}) } });
    okta = await setUpOkta(server);
    cli = cliFor(server.env);
  });
  afterAll(async () => {
    await other?.close();
    await server?.close();
  });

  /** Waits until both instances' watched copies hold what the store holds (a CLI change reaches them through store.changes). */
  async function applied() {
    const { store: shared, clock, audit } = server.services;
    const stored = JSON.stringify(await createAuthenticatorPolicies({ store: shared, clock, audit }).current());
    for (const instance of [server, other]) {
      await expect.poll(async () => JSON.stringify(await instance.services.policies.current()), { timeout: CHANGE_DELIVERY_MS * 2, interval: 50 }).toBe(stored);
    }
  }

  async function signInAt(target: TestServer, authenticator: SoftAuthenticator, userName: string) {
    const request = authorizationUrl(okta.rp, { login_hint: userName });
    return signInOverHttp({ origin: target.url, authorizationUrl: request.url, authenticator });
  }

  it('is set from the CLI with a dry run first, applied by every instance at once, and refuses an older synced passkey at sign-in', async () => {
    const alice = await createPerson(server, 'alice@example.com', { groupId: okta.group.id });
    const aliceKey = synced();
    await enrollPerson(server, alice, { authenticator: aliceKey });
    const bob = await createPerson(server, 'bob@example.com', { groupId: okta.group.id });
    const bobKey = deviceBound();
    await enrollPerson(server, bob, { authenticator: bobKey });
    expect((await signInAt(server, aliceKey, 'alice@example.com')).verify.status).toBe(200);
    const [alicePasskey] = await server.services.passkeys.listFor(alice.id);
    await other.services.policies.assertMaySignIn(alicePasskey);

    const preview = await cli.json('policy', 'set', '--synced', 'deny', '--dry-run');
    expect(preview).toMatchObject({ applied: false, deployment: { synced: 'deny', aaguids: { mode: 'any' }, require_attestation: false } });
    expect(preview.affected.totals).toEqual({ people: 1, passkeys: 1, locked_out: 1, admins_locked_out: 0 });
    expect(preview.affected.people[0]).toMatchObject({ username: 'alice@example.com', locked_out: true, compliant_passkeys: 0, passkeys: [{ synced: true, reasons: ['synced_not_allowed'], newly_refused: true }] });
    // A dry run changes nothing.
    expect((await cli.json('policy', 'show')).deployment).toEqual({ synced: 'allow', aaguids: { mode: 'any' }, require_attestation: false });

    const applied = await cli.json('policy', 'set', '--synced', 'deny');
    expect(applied).toMatchObject({ applied: true, deployment: { synced: 'deny' } });
    // The other instance heard of it through store.changes (no restart, no request needed): it
    // answers from its watched copy, so only the notification can have changed it.
    expect(other.services.policies.watching()).toBe(true);
    for (const instance of [other, server]) {
      await expect.poll(async () => (await instance.services.policies.current()).deployment.syncedPasskeys, { timeout: CHANGE_DELIVERY_MS * 2, interval: 50 }).toBe('deny');
    }
    await expect(other.services.policies.assertMaySignIn(alicePasskey)).rejects.toMatchObject({ code: 'passkey_not_allowed', reasons: ['synced_not_allowed'] });

    const refused = await signInAt(server, aliceKey, 'alice@example.com');
    expect(refused.verify.status).toBe(403);
    expect(refused.verify.body).toMatchObject({ error: 'passkey_not_allowed' });
    expect(refused.verify.body.error_description).toMatch(/no longer meets your organisation's sign-in policy.*stays on one device, such as a security key or Windows Hello.*ask your administrator/);
    expect((await signInAt(server, bobKey, 'bob@example.com')).verify.status).toBe(200);

    const audit = await server.services.audit.list({ limit: 50 });
    expect(audit.find((event) => event.action === 'policy.set')).toMatchObject({ actor: 'cli', kind: 'cli', detail: { scope: 'deployment', policy: { syncedPasskeys: 'deny' }, affectedPeople: 1, lockedOut: 1 } });
    expect(audit.find((event) => event.action === 'signin.failure' && event.actor === `identity:${alice.id}`)).toMatchObject({ detail: { reason: 'passkey_not_allowed', policyReasons: ['synced_not_allowed'] } });
    expect(await cli.json('policy', 'affected')).toMatchObject({ totals: { people: 1 }, people: [{ username: 'alice@example.com', passkeys: [{ newly_refused: false }] }] });
  });

  it('lets a group override loosen the policy for its members, and combines several overrides strictly', async () => {
    const pilot = await server.services.groups.create({ displayName: 'Pilot' }, TEST_ACTOR);
    const finance = await server.services.groups.create({ displayName: 'Finance' }, TEST_ACTOR);
    const alice = (await server.services.identities.resolve('alice@example.com'))!;
    const aliceKey = synced();
    await server.services.groups.change(pilot.id, { members: { add: [alice.id] } }, TEST_ACTOR);

    const loosened = await cli.json('policy', 'set', '--group', 'Pilot', '--synced', 'allow');
    await applied();
    expect(loosened).toMatchObject({ applied: true, group: 'Pilot', group_id: pilot.id, override: { synced: 'allow' }, affected: { totals: { people: 0 } } });
    // Enrolling a synced passkey is now accepted for Alice (a Pilot member).
    await enrollPerson(server, alice, { authenticator: aliceKey });
    expect((await signInAt(server, aliceKey, 'alice@example.com')).verify.status).toBe(200);

    // Finance requires attestation and names no synced rule (inherits "deny"): in both groups, the strictest wins.
    const preview = await cli.json('policy', 'set', '--group', 'Finance', '--require-attestation', 'true', '--dry-run');
    expect(preview.affected.totals.people).toBe(0);
    await cli.json('policy', 'set', '--group', 'Finance', '--require-attestation', 'true');
    await applied();
    await server.services.groups.change(finance.id, { members: { add: [alice.id] } }, TEST_ACTOR);
    const refused = await signInAt(server, aliceKey, 'alice@example.com');
    expect(refused.verify.status).toBe(403);
    expect(refused.verify.body.error_description).toMatch(/stays on one device.*; and an authenticator whose make and model can be verified/);
    expect((await server.services.policies.effectiveFor(alice.id))).toMatchObject({ syncedPasskeys: 'deny', requireAttestation: true, scopes: [finance.id, pilot.id].sort() });

    expect(await cli.json('policy', 'show')).toEqual({
      deployment: { synced: 'deny', aaguids: { mode: 'any' }, require_attestation: false },
      groups: expect.arrayContaining([
        { group_id: pilot.id, group: 'Pilot', override: { synced: 'allow' } },
        { group_id: finance.id, group: 'Finance', override: { require_attestation: true } },
      ]),
    });
    const cleared = await cli.json('policy', 'clear', '--group', 'Finance');
    expect(cleared).toMatchObject({ applied: true, group: 'Finance' });
    await applied();
    expect((await signInAt(server, aliceKey, 'alice@example.com')).verify.status).toBe(200);
  });

  it('answers bad CLI input with one line and a non-zero exit', async () => {
    expect((await cli.fail('policy', 'set', '--aaguids-allow', 'not-an-aaguid')).reason).toMatch(/^latchkey: "not-an-aaguid" is not an AAGUID/);
    expect((await cli.fail('policy', 'set')).reason).toMatch(/nothing to change/);
    expect((await cli.fail('policy', 'set', '--synced', 'inherit')).reason).toMatch(/the deployment policy cannot inherit/);
    expect((await cli.fail('policy', 'set', '--synced', 'maybe')).reason).toMatch(/--synced must be one of allow, deny, inherit/);
    expect((await cli.fail('policy', 'set', '--group', 'Nobody', '--synced', 'deny')).reason).toMatch(/no group "Nobody"/);
    expect((await cli.fail('policy', 'clear', '--group', 'Finance')).reason).toMatch(/has no passkey policy override/);
  });

  it('is managed from the console API: preview first, save audited as the admin, and the identity page says which passkeys meet it', async () => {
    const root = await createPerson(server, 'root@example.com', { roles: [ADMIN_ROLE] });
    const rootKey = deviceBound();
    await enrollPerson(server, root, { authenticator: rootKey });
    const jar = new CookieJar();
    const login = await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: rootKey, jar });
    expect(login.verify.status).toBe(200);
    const csrf = pageData(await (await browse(jar, `${server.url}/admin`)).text()).csrf;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await browse(jar, `${server.url}/admin/api${path}`, { method, headers: { accept: 'application/json', origin: server.url, 'x-csrf-token': csrf, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: response.status, body: await response.json().catch(() => null) };
    };

    const shown = await call('GET', '/policy');
    expect(shown.status).toBe(200);
    expect(shown.body.deployment).toEqual({ syncedPasskeys: 'deny', aaguids: { mode: 'any' }, requireAttestation: false });
    const change = { syncedPasskeys: 'deny', aaguids: { mode: 'block', aaguids: ['FBFC3007-154E-4ECC-8C0B-6E020557D7BD'] }, requireAttestation: false };
    const preview = await call('POST', '/policy/preview', change);
    expect(preview).toMatchObject({ status: 200, body: { applied: false, policy: { deployment: { aaguids: { mode: 'block', aaguids: ['fbfc3007-154e-4ecc-8c0b-6e020557d7bd'] } } } } });
    expect((await call('GET', '/policy')).body.deployment.aaguids).toEqual({ mode: 'any' });
    expect((await call('POST', '/policy/preview', { aaguids: { mode: 'allow', aaguids: ['zzz'] } }))).toMatchObject({ status: 400, body: { error: 'invalid_input' } });
    const saved = await call('PUT', '/policy', change);
    expect(saved).toMatchObject({ status: 200, body: { applied: true } });
    const audit = await server.services.audit.list({ actor: `identity:${root.id}`, limit: 20 });
    expect(audit.find((event) => event.action === 'policy.set')).toMatchObject({ kind: 'admin', detail: { scope: 'deployment' } });

    const alice = await server.services.identities.resolve('alice@example.com');
    const detail = await call('GET', `/identities/${alice.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.policy).toMatchObject({ syncedPasskeys: 'allow', scopes: [expect.any(String)] });
    expect(detail.body.passkeys.length).toBeGreaterThan(0);
    for (const passkey of detail.body.passkeys) {
      expect(passkey).toMatchObject({ synced: true, attestationFormat: 'none', attested: false, meetsPolicy: true, policyReasons: [] });
    }
    const bob = await server.services.identities.resolve('bob@example.com');
    expect((await call('GET', `/identities/${bob.id}`)).body.passkeys[0]).toMatchObject({ synced: false, meetsPolicy: true });

    const pilot = (await call('GET', '/policy')).body.overrides.find((row: { group: string }) => row.group === 'Pilot');
    const clearPreview = await call('POST', `/policy/groups/${pilot.groupId}/clear/preview`, {});
    expect(clearPreview.status, JSON.stringify(clearPreview.body)).toBe(200);
    expect(clearPreview.body.affected.people.map((person: { userName: string }) => person.userName)).toEqual(['alice@example.com']);
    expect((await call('DELETE', `/policy/groups/${pilot.groupId}`)).status).toBe(200);
    const after = await call('GET', `/identities/${alice.id}`);
    expect(after.body.passkeys.every((passkey: { meetsPolicy: boolean; policyReasons: string[] }) => !passkey.meetsPolicy && passkey.policyReasons.includes('synced_not_allowed'))).toBe(true);
    await call('PUT', '/policy', { syncedPasskeys: 'allow', aaguids: { mode: 'any' } });
  });
});

