/**
 * `okta setup` and `okta doctor` against the Okta emulator, on both stores (setup records what it
 * created in store.settings and creates the Latchkey app).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { startOktaSim, type OktaSim } from '../okta-sim/okta-sim.ts';
import { setupOkta, SUPER_ADMIN_WARNING } from '../../server/edges/okta/okta-setup.ts';
import { doctorOkta } from '../../server/edges/okta/okta-doctor.ts';
import { oidcEndpoints } from '../../server/http/endpoints.ts';
import { createPerson, storeScimToken } from '../support/builders.ts';
import type { Services } from '../../server/bootstrap.ts';
import { addPasskey, connect } from './helpers.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const DAY = 24 * 60 * 60 * 1000;
const writes = (sim: OktaSim) => sim.requests.filter((request) => request.method !== 'GET').length;

async function healthyLatchkey(services: Services) {
  for (const name of ['root@example.com', 'second@example.com']) {
    const admin = await createPerson(services, name, { roles: ['admin'], actor: CLI_ACTOR });
    await addPasskey(services, admin.id);
  }
  const now = services.clock.now();
  await storeScimToken(services.store, { name: 'okta', createdAt: now, expiresAt: now + 90 * DAY });
  const group = await services.groups.create({ displayName: 'Beyond Identity' }, CLI_ACTOR);
  const [app] = (await services.apps.list()).filter((candidate) => candidate.kind === 'okta');
  await services.apps.setAssignment(app.id, group.id, true, CLI_ACTOR);
}

for (const store of STORE_KINDS) {
  describe(`okta setup and doctor (${store})`, () => {
    let sim: OktaSim;
    let server: TestServer;

    beforeEach(async () => {
      sim = await startOktaSim();
      server = await startTestServer({ store });
      await connect(server.services, sim);
    });

    afterEach(async () => {
      await server?.close();
      await sim?.close();
    });

    it('plans with --dry-run, sets an empty org up, and changes nothing the second time', async () => {
      const { services } = server;
      const issuer = services.config.issuer;

      const plan = await setupOkta(services, { dryRun: true }, CLI_ACTOR);
      expect(plan.steps.map((step) => [step.step, step.action])).toEqual([
        ['attribute', 'would_create'],
        ['group', 'would_create'],
        ['latchkey_app', 'would_create'],
        ['identity_provider', 'would_create'],
        ['routing_rule', 'would_create'],
      ]);
      expect(writes(sim)).toBe(0);
      expect(await services.apps.list()).toEqual([]);

      const result = await setupOkta(services, { group: 'Beyond Identity' }, CLI_ACTOR);
      expect(result.changed).toBe(true);
      expect(result.steps.every((step) => step.action === 'created')).toBe(true);
      expect(result.warnings).toContain(SUPER_ADMIN_WARNING);

      // The attribute: boolean, read-only for the person.
      expect(sim.customProperties.get('byndidRegistered')).toMatchObject({ type: 'boolean', permissions: [{ principal: 'SELF', action: 'READ_ONLY' }] });
      // The group.
      expect([...sim.groups.values()].map((group) => (group.profile as { name: string }).name)).toEqual(['Beyond Identity']);
      // The Latchkey app for this org, and the IdP pointing at it with the guide's settings.
      const [app] = await services.apps.list();
      expect(app).toMatchObject({ kind: 'okta', oktaDomain: sim.url, redirectUris: [`${sim.url}/oauth2/v1/authorize/callback`] });
      const [idp] = [...sim.idps.values()] as Record<string, any>[];
      const endpoints = oidcEndpoints(issuer);
      expect(idp).toMatchObject({
        type: 'OIDC',
        status: 'ACTIVE',
        protocol: {
          type: 'OIDC',
          scopes: ['openid', 'email', 'profile'],
          issuer: { url: issuer },
          endpoints: {
            authorization: { url: endpoints.authorization_endpoint, binding: 'HTTP-REDIRECT' },
            token: { url: endpoints.token_endpoint, binding: 'HTTP-POST' },
            userInfo: { url: endpoints.userinfo_endpoint },
            jwks: { url: endpoints.jwks_uri },
          },
          credentials: { client: { client_id: app.id, client_secret: services.apps.revealSecret(app) } },
        },
        policy: {
          // Linking only to the Latchkey group's members, never to an Okta admin, by the Okta
          // username Latchkey sends as preferred_username; no just-in-time provisioning.
          accountLink: { action: 'AUTO', filter: { groups: { include: [[...sim.groups.keys()][0]] }, users: { exclude: [sim.admin.id] } } },
          provisioning: { action: 'DISABLED' },
          subject: { userNameTemplate: { template: 'idpuser.preferred_username' }, matchType: 'USERNAME' },
          maxClockSkew: 120000,
        },
      });
      expect(result.next_steps.join('\n')).toMatch(/set the IdP's account link policy to Disabled/);
      // The routing rule, first, before Okta's default rule.
      const [policy] = [...sim.policies.values()];
      const rules = sim.rules.get(policy.id as string)!;
      expect(rules.map((rule) => [rule.name, rule.priority, rule.status])).toEqual([
        ['Latchkey', 1, 'ACTIVE'],
        ['Default Rule', 2, 'ACTIVE'],
      ]);
      expect(rules[0]).toMatchObject({
        type: 'IDP_DISCOVERY',
        conditions: { userIdentifier: { type: 'ATTRIBUTE', attribute: 'byndidRegistered', patterns: [{ matchType: 'EQUALS', value: 'true' }] } },
        actions: { idp: { providers: [{ type: 'OIDC', id: idp.id }] } },
      });

      const before = writes(sim);
      const again = await setupOkta(services, { group: 'Beyond Identity' }, CLI_ACTOR);
      expect(again.changed).toBe(false);
      expect(again.steps.map((step) => step.action)).toEqual(['found', 'found', 'found', 'found', 'found']);
      expect(again.steps.find((step) => step.step === 'identity_provider')?.id).toBe(idp.id);
      expect(writes(sim)).toBe(before);
      expect(await services.apps.list()).toHaveLength(1);
      expect(sim.idps.size).toBe(1);
    });

    it('leaves an identity provider it did not create alone and says how to proceed', async () => {
      const { services } = server;
      const foreign = {
        id: '0oaforeign000000001',
        type: 'OIDC',
        name: 'Latchkey',
        status: 'ACTIVE',
        protocol: { type: 'OIDC', issuer: { url: 'https://someone-else.example.com' }, endpoints: {}, scopes: ['openid'], credentials: { client: { client_id: 'theirs' } } },
        policy: {},
      };
      sim.idps.set(foreign.id, structuredClone(foreign));
      // The emulator keeps its own copy: compared with `foreign`, any change to it shows.
      const untouched = () => {
        expect(sim.idps.get(foreign.id)).toEqual(foreign);
        expect(sim.requests.filter((request) => request.path.startsWith(`/api/v1/idps/${foreign.id}`) && request.method !== 'GET')).toEqual([]);
      };
      await expect(setupOkta(services, {}, CLI_ACTOR)).rejects.toThrow(/already has an identity provider named "Latchkey".*--idp-name/);
      untouched();

      const result = await setupOkta(services, { idpName: 'Latchkey passkeys' }, CLI_ACTOR);
      expect(result.steps.find((step) => step.step === 'identity_provider')).toMatchObject({ action: 'created', name: 'Latchkey passkeys' });
      untouched();
      expect(sim.idps.size).toBe(2);
    });

    it('doctor warns about every live account-linking setting weaker than setup\'s', async () => {
      const { services } = server;
      await setupOkta(services, {}, CLI_ACTOR);
      await healthyLatchkey(services);
      const [idp] = [...sim.idps.values()] as Record<string, any>[];
      const identityProvider = async () => (await doctorOkta(services)).checks.find((check) => check.check === 'identity_provider')!;
      expect(await identityProvider()).toMatchObject({ status: 'pass', detail: expect.stringContaining('set it to Disabled once everyone is linked') });

      // The guide's old settings: any Okta user matched by username or email, admins included, JIT on.
      idp.policy.accountLink.filter = null;
      idp.policy.subject = { userNameTemplate: { template: 'idpuser.email' }, matchType: 'USERNAME_OR_EMAIL', filter: null };
      idp.policy.provisioning.action = 'AUTO';
      const weak = await identityProvider();
      expect(weak.status).toBe('warn');
      expect(weak.detail).toContain('just-in-time provisioning is on');
      expect(weak.detail).toContain('not restricted to the Latchkey group');
      expect(weak.detail).toContain(`may link to 1 Okta admin(s) (${sim.admin.id})`);
      expect(weak.detail).toContain('links by USERNAME_OR_EMAIL of idpuser.email');
      expect(weak.fix).toMatch(/admins excluded/);

      // Linking turned off once everyone is linked: the safest state.
      idp.policy.accountLink = { action: 'DISABLED', filter: null };
      idp.policy.provisioning.action = 'DISABLED';
      expect(await identityProvider()).toMatchObject({ status: 'pass', detail: expect.stringContaining('links rest on sub') });
    });

    it('doctor passes on a good setup and names each broken link with a fix', async () => {
      const { services } = server;
      await setupOkta(services, {}, CLI_ACTOR);
      await healthyLatchkey(services);

      const good = await doctorOkta(services);
      // Only the address warns: the test server's http://localhost is out of a real Okta org's reach.
      expect(good.checks.filter((check) => check.status !== 'pass')).toEqual([expect.objectContaining({ check: 'public_url', status: 'warn', detail: expect.stringContaining('A real Okta org cannot reach it'), fix: expect.stringContaining('A real Okta org from a laptop') })]);
      expect(good.ok).toBe(true);
      expect(good.checks.map((check) => check.check)).toEqual(['okta_connection', 'registration_attribute', 'latchkey_app', 'identity_provider', 'routing_rule', 'flag_delivery', 'scim_tokens', 'admins_with_passkeys', 'public_url', 'okta_reaches_latchkey']);

      // Break it: the IdP's token endpoint, the rule's status, a SCIM token about to expire,
      // one admin fewer, and an http PUBLIC_URL in production.
      const [idp] = [...sim.idps.values()] as Record<string, any>[];
      idp.protocol.endpoints.token.url = 'https://elsewhere.example.com/token';
      const rule = sim.rules.get([...sim.policies.keys()][0])!.find((candidate) => candidate.name === 'Latchkey')!;
      rule.status = 'INACTIVE';
      const now = services.clock.now();
      for (const token of await services.store.scimTokens.list()) await services.store.scimTokens.revoke(token.id, now);
      await storeScimToken(services.store, { name: 'okta-old', createdAt: now, expiresAt: now + 3 * DAY });
      const second = await services.identities.resolve('second@example.com');
      await services.identities.update(second.id, { roles: [] }, CLI_ACTOR);

      const broken = await doctorOkta({ ...services, config: { ...services.config, env: 'production' } });
      const byName = Object.fromEntries(broken.checks.map((check) => [check.check, check]));
      expect(broken.ok).toBe(false);
      expect(byName.identity_provider).toMatchObject({ status: 'fail' });
      expect(byName.identity_provider.detail).toContain(`token endpoint is https://elsewhere.example.com/token, expected ${oidcEndpoints(services.config.issuer).token_endpoint}`);
      expect(byName.routing_rule).toMatchObject({ status: 'fail', detail: expect.stringContaining('INACTIVE') });
      expect(byName.scim_tokens).toMatchObject({ status: 'fail', detail: expect.stringContaining('okta-old') });
      expect(byName.admins_with_passkeys).toMatchObject({ status: 'warn' });
      expect(byName.public_url).toMatchObject({ status: 'fail' });
      for (const check of broken.checks.filter((candidate) => candidate.status !== 'pass')) expect(check.fix).toBeTruthy();

      // A revoked API token and a missing attribute.
      sim.customProperties.delete('byndidRegistered');
      sim.revokeToken(sim.token);
      const noToken = await doctorOkta(services);
      expect(noToken.checks[0]).toMatchObject({ check: 'okta_connection', status: 'fail', detail: expect.stringContaining('Invalid token provided') });
      await connect(services, sim, sim.issueToken(sim.admin.id));
      const noAttribute = await doctorOkta(services);
      expect(noAttribute.checks.find((check) => check.check === 'registration_attribute')).toMatchObject({ status: 'fail', fix: 'latchkey okta setup' });
    });
  });
}
