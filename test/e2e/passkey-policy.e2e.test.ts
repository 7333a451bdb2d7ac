/**
 * The authenticator policy in Chromium with CDP virtual authenticators: a synced one (backup
 * eligible and backed up, as iCloud Keychain makes) and a device-bound security key (USB, BE=0).
 * Registration through a real enrollment link under each policy, what the browser is asked for,
 * and the sign-in refusal of a passkey created before the policy tightened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { expectAccessible, launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { authorizationUrl, createPerson, FAKE_OKTA, OKTA_CALLBACK, setUpOkta } from '../support/okta-fixture.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import type { IdentityRecord } from '../../server/ports/storage.ts';

describe('passkey policy in Chromium', { timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;
  const pages: PasskeyPage[] = [];

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
    okta = await setUpOkta(server);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function device(kind: 'synced' | 'security-key') {
    const made = await newPasskeyPage(browser, kind);
    pages.push(made);
    return made;
  }

  /** Opens a fresh enrollment link and presses Create passkey; answers the options the browser got and the status shown. */
  async function enroll(page: Page, person: IdentityRecord) {
    const { url } = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
    await page.goto(url);
    await expectAccessible(page, 'enrollment page');
    const options = page.waitForResponse((response) => response.url().endsWith('/options'));
    const verified = page.waitForResponse((response) => response.url().endsWith('/verify'));
    await page.getByRole('button', { name: 'Create passkey' }).click();
    const sent = (await (await options).json()) as { attestation: string; hints?: string[] };
    const answer = await verified;
    const status = page.locator('#create-status');
    await expect.poll(() => status.textContent()).not.toMatch(/Follow your browser|Saving/);
    await expectAccessible(page, 'enrollment result');
    return { sent, status: answer.status(), shown: (await status.textContent()) ?? '' };
  }

  async function person(userName: string) {
    return createPerson(server, userName, { groupId: okta.group.id });
  }

  it('any passkey enrolls under the open policy; the browser is asked for nothing special', async () => {
    const carol = await person('carol@example.com');
    const result = await enroll((await device('synced')).page, carol);
    expect(result.status).toBe(200);
    expect(result.sent.attestation).toBe('none');
    expect(result.sent.hints ?? []).toEqual([]);
    const [passkey] = await server.services.passkeys.listFor(carol.id);
    expect(passkey).toMatchObject({ deviceType: 'multiDevice', backedUp: true, attestationFormat: 'none', attested: false });
  });

  it('with device-bound required, a synced passkey is refused with what to use instead, and a security key is accepted', async () => {
    await server.services.policies.set({ syncedPasskeys: 'deny' }, CLI_ACTOR);
    const dave = await person('dave@example.com');
    const synced = await device('synced');
    const { url } = await server.services.invites.issue(dave, { actor: CLI_ACTOR, delivery: 'link' });
    await synced.page.goto(url);
    // The page says the rule before anyone tries.
    await expect.poll(() => synced.page.locator('#policy-requirement').textContent()).toMatch(/stays on one device, such as a security key or Windows Hello/);

    const refused = await enroll(synced.page, dave);
    expect(refused.sent.hints).toEqual(['security-key', 'client-device']);
    expect(refused.status).toBe(403);
    expect(refused.shown).toMatch(/This passkey cannot be used\. This organisation requires a passkey that stays on one device, such as a security key or Windows Hello; synced passkeys from iCloud Keychain, Google Password Manager/);
    expect(await server.services.passkeys.listFor(dave.id)).toEqual([]);
    // The link was not spent: the person can try again with a compliant authenticator.
    expect((await server.services.invites.list(dave.id)).every((invite) => invite.spentAt === null)).toBe(true);
    const audit = await server.services.audit.list({ target: `identity:${dave.id}`, limit: 10 });
    expect(audit.find((event) => event.action === 'passkey.register_refused')).toMatchObject({ outcome: 'failure', actor: `identity:${dave.id}`, detail: { reasons: ['synced_not_allowed'], deviceType: 'multiDevice' } });

    const accepted = await enroll((await device('security-key')).page, dave);
    expect(accepted.status).toBe(200);
    const [passkey] = await server.services.passkeys.listFor(dave.id);
    expect(passkey).toMatchObject({ deviceType: 'singleDevice', backedUp: false });
  });

  it('with an allow list, a model not on it is refused; the browser is asked for attestation so the AAGUID is real', async () => {
    await server.services.policies.set({ syncedPasskeys: 'allow', aaguids: { mode: 'allow', aaguids: ['cb69481e-8ff7-4039-93ec-0a2729a154a8'] } }, CLI_ACTOR);
    const erin = await person('erin@example.com');
    const result = await enroll((await device('security-key')).page, erin);
    expect(result.sent.attestation).toBe('direct');
    expect(result.status).toBe(403);
    expect(result.shown).toMatch(/one of the authenticator models your organisation approved/);

    // The same authenticator's own model, once allowed, enrolls.
    const aaguid = (await server.services.audit.list({ target: `identity:${erin.id}`, limit: 5 })).find((event) => event.action === 'passkey.register_refused')!.detail.aaguid as string;
    await server.services.policies.set({ aaguids: { mode: 'allow', aaguids: [aaguid] } }, CLI_ACTOR);
    const again = await enroll((await device('security-key')).page, erin);
    expect(again.status).toBe(200);
    // A block list naming it refuses it.
    await server.services.policies.set({ aaguids: { mode: 'block', aaguids: [aaguid] } }, CLI_ACTOR);
    const blocked = await enroll((await device('security-key')).page, erin);
    expect(blocked.sent.attestation).toBe('direct');
    expect(blocked.status).toBe(403);
    expect(blocked.shown).toMatch(/an authenticator model your organisation has not blocked/);
    await server.services.policies.set({ aaguids: { mode: 'any' } }, CLI_ACTOR);
  });

  it('with attestation required, an authenticator without a verified metadata statement is refused', async () => {
    await server.services.policies.set({ requireAttestation: true }, CLI_ACTOR);
    const frank = await person('frank@example.com');
    const result = await enroll((await device('security-key')).page, frank);
    expect(result.sent.attestation).toBe('direct');
    expect(result.status).toBe(403);
    expect(result.shown).toMatch(/whose make and model can be verified/);
    const refusal = (await server.services.audit.list({ target: `identity:${frank.id}`, limit: 5 })).find((event) => event.action === 'passkey.register_refused')!;
    // Chromium's virtual authenticator attests ('packed'), but no metadata statement vouches for it.
    expect(refusal.detail).toMatchObject({ reasons: ['attestation_required'], attested: false });
    expect(refusal.detail.attestationFormat).not.toBe('none');
    await server.services.policies.set({ requireAttestation: false, syncedPasskeys: 'allow' }, CLI_ACTOR);
  });

  it('after the policy tightens, a synced passkey is refused at sign-in with what to do, and it is audited', async () => {
    const grace = await person('grace@example.com');
    const synced = await device('synced');
    expect((await enroll(synced.page, grace)).status).toBe(200);

    const preview = await server.services.policies.set({ syncedPasskeys: 'deny' }, CLI_ACTOR, { dryRun: true });
    expect(preview.applied).toBe(false);
    const listed = preview.affected.people.find((entry) => entry.userName === 'grace@example.com');
    expect(listed).toMatchObject({ lockedOut: true, passkeys: [{ synced: true, reasons: ['synced_not_allowed'], newlyRefused: true }] });
    // Nothing changed yet: Grace still signs in.
    const first = authorizationUrl(okta.rp, { login_hint: 'grace@example.com' });
    const callback = new Promise<URL>((resolve) => {
      void synced.page.route(`${FAKE_OKTA}/**`, async (route) => {
        resolve(new URL(route.request().url()));
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Okta callback</p>' });
      });
    });
    await synced.page.goto(first.url);
    await expectAccessible(synced.page, 'sign-in page');
    await synced.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    expect((await callback).href.startsWith(OKTA_CALLBACK)).toBe(true);
    await synced.page.unroute(`${FAKE_OKTA}/**`);

    await server.services.policies.set({ syncedPasskeys: 'deny' }, CLI_ACTOR);
    // prompt=login: Grace's SSO session from the first sign-in would otherwise answer at once.
    const second = authorizationUrl(okta.rp, { login_hint: 'grace@example.com', prompt: 'login' });
    await synced.page.goto(second.url);
    const verify = synced.page.waitForResponse((response) => response.url().endsWith('/passkey/verify'));
    await synced.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    expect((await verify).status()).toBe(403);
    const status = synced.page.locator('#status');
    await expect.poll(() => status.textContent()).toMatch(/This passkey no longer meets your organisation's sign-in policy\. This organisation requires a passkey that stays on one device.*enroll a new passkey.*ask your administrator/);
    await expectAccessible(synced.page, 'sign-in refusal');
    const refusal = (await server.services.audit.list({ actor: `identity:${grace.id}`, limit: 10 })).find((event) => event.action === 'signin.failure');
    expect(refusal).toMatchObject({ outcome: 'failure', detail: { reason: 'passkey_not_allowed', policyReasons: ['synced_not_allowed'] } });
    await server.services.policies.set({ syncedPasskeys: 'allow' }, CLI_ACTOR);
  });

  it('the console previews a change with who it refuses, saves it, and the identity page says which passkeys meet it', async () => {
    const root = await createPerson(server, 'root@example.com', { roles: [ADMIN_ROLE] });
    const admin = await device('security-key');
    expect((await enroll(admin.page, root)).status).toBe(200);
    const { page } = admin;
    await page.goto(`${server.url}/admin`);
    await page.waitForURL(/\/interaction\//);
    // Without a login hint the page offers the passkey through autofill; the button is the fallback.
    const arrived = await page.waitForURL(/\/admin\/apps$/, { timeout: 8_000 }).then(() => true, () => false);
    if (!arrived) {
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.waitForURL(/\/admin\/apps$/);
    }
    await page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name: 'Passkey policy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Passkey policy' }).waitFor();
    await expect.poll(() => page.locator('main, body').first().textContent()).toContain('Synced allowed');
    await expectAccessible(page, 'passkey policy page');

    await page.getByRole('button', { name: 'Edit deployment policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deployment passkey policy' });
    await dialog.getByText('Device-bound only').click();
    await dialog.getByRole('button', { name: 'Preview' }).click();
    const preview = dialog.getByRole('table', { name: 'People this policy would refuse' });
    await preview.waitFor();
    await expect.poll(() => preview.textContent()).toMatch(/carol@example\.com.*synced/);
    expect(await preview.textContent()).not.toContain('root@example.com');
    await expectAccessible(page, 'policy preview');
    // Previewing changed nothing.
    expect((await server.services.policies.current()).deployment.syncedPasskeys).toBe('allow');
    await dialog.getByRole('button', { name: 'Save policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await server.services.policies.current()).deployment.syncedPasskeys).toBe('deny');
    const refusedTable = page.getByRole('table', { name: 'People holding refused passkeys' });
    await expect.poll(() => refusedTable.textContent()).toMatch(/carol@example\.com/);
    const audit = await server.services.audit.list({ actor: `identity:${root.id}`, limit: 10 });
    expect(audit.find((event) => event.action === 'policy.set')).toMatchObject({ kind: 'admin', detail: { scope: 'deployment', policy: { syncedPasskeys: 'deny' } } });
    await expectAccessible(page, 'passkey policy saved');

    const carol = await server.services.identities.resolve('carol@example.com');
    await page.goto(`${server.url}/admin/identities/${carol.id}`);
    const row = page.getByRole('row').filter({ hasText: 'Synced' });
    await expect.poll(() => row.first().textContent()).toMatch(/Synced.*None.*Refused: synced/);
    await expectAccessible(page, 'identity passkeys with policy');
    const dave = await server.services.identities.resolve('dave@example.com');
    await page.goto(`${server.url}/admin/identities/${dave.id}`);
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'Device-bound' }).first().textContent()).toMatch(/Device-bound.*Meets policy/);
  });
});
