/**
 * The whole integration guide, offline, in Chromium: a simulated Okta org (test/okta-sim) set up by
 * `okta setup`, pushing people and the group over SCIM with Okta's request sequence; the person
 * enrolls a passkey from the link, Latchkey flips byndidRegistered at "Okta", and the person then
 * signs in at Okta's identifier-first page, is routed to Latchkey, uses the passkey, and lands on
 * Okta's dashboard, linked by sub. Run once per undocumented Okta behaviour (OKTA.md "Unconfirmed").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { expectAccessible, launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { startOktaSim, type OktaSim } from '../okta-sim/okta-sim.ts';
import type { OrgVariants } from '../okta-sim/org-sign-in.ts';
import { DEFAULT_VARIANTS } from '../okta-sim/org-sign-in.ts';
import { configureOkta } from '../../server/edges/okta/okta-configure.ts';
import { loadSetupState, setupOkta } from '../../server/edges/okta/okta-setup.ts';
import { syncWorker } from '../okta/helpers.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const VARIANTS: Array<[string, Partial<OrgVariants>]> = [
  ['login_hint forwarded, secret as Basic', {}],
  ['no login_hint (usernameless passkey), secret in the POST body', { forwardLoginHint: false, clientAuth: 'post' }],
  ['JWKS never re-fetched on an unknown kid', { refetchJwksOnUnknownKid: false }],
  ['routing attribute matched case-insensitively', { routingMatchCaseSensitive: false }],
];

// One Chromium for every variant (a launch costs seconds); each variant gets its own context.
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

describe.each(VARIANTS)('Okta in a box: %s', (name, variant) => {
  // The variants differ only in how Okta signs in; the provisioning edges run once.
  const firstVariant = name === VARIANTS[0][0];
  let server: TestServer;
  let sim: OktaSim;
  let person: PasskeyPage;
  let aliceOktaId: string;
  let bobOktaId: string;
  let worker: ReturnType<typeof syncWorker>;

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
    // What the server's main wires at start: passkey changes enqueue the Okta flag update.
    worker = syncWorker(server.services);
    sim = await startOktaSim({ variants: variant });
    person = await newPasskeyPage(browser);
  });
  afterAll(async () => {
    await person?.context.close();
    await sim?.close();
    await server?.close();
  });

  it('sets the org up through the API and provisions the group over SCIM with Okta’s request sequence', async () => {
    const { services } = server;
    await configureOkta(services, { domain: sim.url, token: sim.token }, CLI_ACTOR);
    const setup = await setupOkta(services, { group: 'Latchkey users' }, CLI_ACTOR);
    expect(setup.steps.map((step) => step.action)).toEqual(['created', 'created', 'created', 'created', 'created']);
    const state = await loadSetupState(services, sim.url);

    const alice = sim.addUser({ login: 'alice@example.com', firstName: 'Alice', lastName: 'Smith' });
    const bob = sim.addUser({ login: 'bob@example.com', firstName: 'Bob', lastName: 'Jones', password: 'Bob-password-1' });
    aliceOktaId = alice.id;
    bobOktaId = bob.id;
    sim.addToGroup(state.groupId!, alice.id);
    sim.addToGroup(state.groupId!, bob.id);

    const { token } = await services.scimTokens.create({ name: 'Okta SCIM Token' }, CLI_ACTOR);
    const push = sim.connectScimApp({ baseUrl: `${server.url}/scim/v2`, token });
    await sim.assignGroupToScimApp(state.groupId!);
    await sim.pushGroupToScimApp(state.groupId!);
    expect(push.errors).toEqual([]);
    expect(push.log.map((entry) => `${entry.method} ${entry.path.split('?')[0]} ${entry.status}`)).toEqual([
      'GET /Users 200',
      'POST /Users 201',
      'GET /Users 200',
      'POST /Users 201',
      'GET /Groups 200',
      'POST /Groups 201',
      'PATCH /Groups/' + push.groupIds.get(state.groupId!) + ' 200',
    ]);
    const group = await services.store.groups.getByDisplayName('Latchkey users');
    expect(group).not.toBeNull();
    expect(await services.store.groups.members(group!.id)).toHaveLength(2);
    // Guide stage IV: assign the Latchkey app to the pushed group.
    await services.apps.setAssignment(state.appId!, group!.id, true, CLI_ACTOR);
  });

  if (firstVariant) it('routes a person without a passkey to Okta’s password page', async () => {
    const { page } = person;
    await page.goto(`${sim.url}/login`);
    await expectAccessible(page, 'the simulated Okta sign-in page');
    await page.getByLabel('Username').fill('bob@example.com');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Password').waitFor();
    await expectAccessible(page, "the simulated Okta's password page");
    expect(new URL(page.url()).pathname).toBe('/login/password');
    expect(sim.users.get(bobOktaId)!.profile.byndidRegistered).toBeUndefined();
  });

  it('enrolls a passkey from the link, and Latchkey flags byndidRegistered=true at Okta', async () => {
    const { services } = server;
    const alice = await services.store.identities.getByUserName('alice@example.com');
    expect(alice).not.toBeNull();
    const { url } = await services.invites.issue(alice!, { actor: CLI_ACTOR, delivery: 'link' });
    const { page } = person;
    await page.goto(url);
    await expectAccessible(page, 'the enrollment page');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#step-done').waitFor({ state: 'visible' });
    await expectAccessible(page, 'the enrollment page, done');
    expect(await services.passkeys.listFor(alice!.id)).toHaveLength(1);
    expect(await worker.drain()).toBe(1);
    expect(sim.users.get(aliceOktaId)!.profile.byndidRegistered).toBe(true);
  });

  it('signs in at Okta: routed to Latchkey by the rule, passkey, back at Okta’s dashboard, linked by sub', async () => {
    const { page } = person;
    await page.goto(`${sim.url}/login`);
    await page.getByLabel('Username').fill('alice@example.com');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/') || url.pathname.startsWith('/oauth2/'));
    const interaction = new URL(page.url());
    expect(interaction.origin).toBe(server.url);
    if (variant.forwardLoginHint ?? DEFAULT_VARIANTS.forwardLoginHint) {
      await expect.poll(() => page.locator('.lead').textContent()).toContain('alice@example.com');
      await expectAccessible(page, "Latchkey's sign-in page");
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    }
    // Without a hint the page offers the discoverable passkey through autofill, which the
    // virtual authenticator answers by itself.
    await page.waitForURL(`${sim.url}/app/UserHome`);
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('alice@example.com');
    expect(await page.getByTestId('registered').textContent()).toBe('true');
    await expectAccessible(page, "the simulated Okta's dashboard");
    const signIn = sim.org.signIns.at(-1)!;
    const alice = await server.services.store.identities.getByUserName('alice@example.com');
    expect(signIn).toMatchObject({ route: 'idp', outcome: 'success', userId: aliceOktaId, linked: 'new' });
    expect(signIn.claims).toMatchObject({ sub: alice!.id, email: 'alice@example.com' });
    expect(signIn.claims!.amr).toContain('pop');
  });

  it('signs in again through the existing link (sub), after signing out at Okta', async () => {
    const { page } = person;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').fill('alice@example.com');
    await page.getByRole('button', { name: 'Next' }).click();
    // Latchkey's own session is still alive: single sign-on returns at once, no ceremony.
    await page.waitForURL(`${sim.url}/app/UserHome`);
    expect(sim.org.signIns.at(-1)).toMatchObject({ outcome: 'success', userId: aliceOktaId, linked: 'existing' });
    expect(sim.org.relyingParty.jwksFetches).toBe(1);
  });

  if (firstVariant) it('pushes a deactivation from Okta, and Latchkey then refuses the person (access_denied back at Okta)', async () => {
    const { services } = server;
    const response = await fetch(`${sim.url}/api/v1/users/${aliceOktaId}/lifecycle/deactivate`, { method: 'POST', headers: { authorization: `SSWS ${sim.token}`, accept: 'application/json' } });
    expect(response.status).toBe(200);
    await sim.scimPush!.idle();
    expect(sim.scimPush!.log.at(-1)).toMatchObject({ method: 'PATCH', status: 200, body: { Operations: [{ op: 'replace', value: { active: false } }] } });
    expect((await services.store.identities.getByUserName('alice@example.com'))!.active).toBe(false);
    // At Okta the user is deprovisioned too, so the routing rule never applies: what Latchkey owns
    // is shown by the IdP sign-in, tried directly with the still-cached authorize redirect.
    sim.users.get(aliceOktaId)!.status = 'ACTIVE';
    const { page } = person;
    await page.context().clearCookies({ domain: '127.0.0.1' });
    await page.goto(`${sim.url}/login`);
    await page.getByLabel('Username').fill('alice@example.com');
    await page.getByRole('button', { name: 'Next' }).click();
    if (variant.forwardLoginHint ?? DEFAULT_VARIANTS.forwardLoginHint) {
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    }
    await page.waitForURL(`${sim.url}/oauth2/v1/authorize/callback**`);
    expect(await page.locator('[data-reason]').getAttribute('data-reason')).toBe('idp_access_denied');
    await expectAccessible(page, "the simulated Okta's sign-in failure page");
    expect(sim.org.signIns.at(-1)).toMatchObject({ outcome: 'failure', reason: 'idp_access_denied' });
  });
});
