/**
 * The sign-in page Okta sends people to, in Chromium: on a fresh install it says how to create
 * the first admin; it shows only what works (no hidden-but-visible username box, no passkey
 * button for someone without a passkey); a failed ceremony gets a message the person can act on;
 * an Okta app's page has a way back to Okta. Every page state is checked with axe-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { expectAccessible, launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { authorizationUrl, createPerson, enrolledPerson, setUpOkta } from '../support/okta-fixture.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe('the sign-in page in Chromium', { timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let person: PasskeyPage;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
    okta = await setUpOkta(server);
    browser = await launchChromium();
    person = await newPasskeyPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('on a fresh install tells the operator the exact command that creates the first admin', async () => {
    const { page } = person;
    await page.goto(`${server.url}/admin`);
    await page.waitForURL(/\/interaction\//);
    await expect.poll(() => page.getByRole('note').textContent()).toContain('npx latchkey admins add you@example.com');
    // Without a login hint the username box is shown, and it takes typing (it filters the browser's passkey list).
    const username = page.getByLabel('Username');
    expect(await username.isVisible()).toBe(true);
    expect(await username.isEditable()).toBe(true);
    await expectAccessible(page, 'console sign-in, no admin yet');
    await server.services.identities.create({ userName: 'root@acme.test', email: 'root@acme.test', roles: [ADMIN_ROLE] }, CLI_ACTOR);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    expect(await page.getByText('no administrator yet').count()).toBe(0);
  });

  it('tells someone without a passkey to look for their enrollment email, and offers no ceremony that must fail', async () => {
    await createPerson(server, 'newbie@example.com', { groupId: okta.group.id });
    const { page } = person;
    await page.goto(authorizationUrl(okta.rp, { login_hint: 'newbie@example.com' }).url);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain("You don't have a passkey yet");
    expect(await page.getByRole('alert').textContent()).toContain('Check your email for an enrollment link');
    expect(await page.getByRole('button', { name: 'Sign in with a passkey' }).count()).toBe(0);
    // The way back to Okta goes to the app's Okta domain.
    expect(await page.getByRole('link', { name: 'Back to Okta sign-in' }).getAttribute('href')).toBe(okta.app.oktaDomain);
    await expectAccessible(page, 'sign-in, no passkey yet');
  });

  it('hides the username box when Okta names the person, and explains a passkey that is not on this device', async () => {
    // Alice's passkey lives in a software authenticator, not in this browser's virtual one.
    await enrolledPerson(server, 'alice@example.com', okta.group.id);
    const { page } = person;
    await page.goto(authorizationUrl(okta.rp, { login_hint: 'alice@example.com' }).url);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    expect(await page.locator('#username').isVisible()).toBe(false);
    expect(await page.getByText('Signing in as').textContent()).toContain('alice@example.com');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 60_000 }).toMatch(/Use a phone or tablet|timed out/);
    expect(await page.locator('#status').textContent()).not.toContain('cancelled or timed out');
    await expectAccessible(page, 'sign-in, passkey on another device');
  });
});
