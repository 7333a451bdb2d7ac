/**
 * The admin console and the dashboard in Debian's Chromium with a CDP virtual authenticator,
 * following the integration guide's console steps: the first admin bootstraps from the CLI's
 * link, signs in to /admin through Latchkey's own OIDC login, creates the Okta app, a SCIM token
 * and a bookmark with an icon, assigns groups, bulk-sends enrollment emails to a filtered set
 * (received by a real SMTP server) and revokes a passkey. A non-admin is refused the console and
 * sees exactly the tiles assigned to their groups. Each console page is screenshotted: into
 * docs/screenshots with UPDATE_SCREENSHOTS=1 (to refresh the README's pictures), else a temp folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { expectAccessible, launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { enrollOverHttp } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { mailSendingFor } from '../enrollment/helpers.ts';
import { cliFor } from '../support/cli.ts';
import type { IdentityRecord } from '../../server/ports/storage.ts';
import { CLI_ACTOR, scimActor } from '../../server/domain/actor.ts';

const shots = process.env.UPDATE_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : mkdtempSync(path.join(tmpdir(), 'latchkey-shots-'));

describe('admin console and dashboard in Chromium', { timeout: 120_000 }, () => {
  let sink: SmtpSink;
  let server: TestServer;
  let browser: Browser;
  let admin: PasskeyPage;
  let engineering: { id: string };
  let sales: { id: string };
  const engineers: IdentityRecord[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    sink = await startSmtpSink();
    server = await startTestServer({ store: 'sqlite', env: { SMTP_URL: sink.url, ORG_NAME: 'Acme Robotics', MAIL_RATE_PER_SECOND: '100' } });
    const { services } = server;
    // What Okta would have pushed over SCIM: people and groups.
    engineering = await services.groups.create({ displayName: 'Engineering', externalId: 'okta-grp-eng' }, scimActor('seed'));
    sales = await services.groups.create({ displayName: 'Sales', externalId: 'okta-grp-sales' }, scimActor('seed'));
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Margaret Hamilton', 'Ken Thompson'];
    for (const [index, full] of names.entries()) {
      const [givenName, familyName] = full.split(' ');
      const userName = `${givenName.toLowerCase()}.${familyName.toLowerCase()}@acme.test`;
      const person = await services.identities.create({ userName, email: userName, givenName, familyName, externalId: `okta-${index}` }, scimActor('seed'));
      engineers.push(person);
    }
    await services.groups.change(engineering.id, { members: { add: engineers.map((person) => person.id) } }, scimActor('seed'));
    for (let index = 0; index < 4; index++) {
      const person = await services.identities.create({ userName: `seller${index}@acme.test`, email: `seller${index}@acme.test`, givenName: 'Sam', familyName: `Seller ${index}` }, scimActor('seed'));
      await services.groups.change(sales.id, { members: { add: [person.id] } }, scimActor('seed'));
    }
    browser = await launchChromium();
    admin = await newPasskeyPage(browser);
    await admin.page.setViewportSize({ width: 1360, height: 860 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await sink?.close();
  });

  /** Every page the console tests visit is checked with axe-core, then photographed. */
  async function shot(page: Page, name: string) {
    await page.waitForLoadState('networkidle');
    await expectAccessible(page, name);
    // Notifications from earlier steps would clutter the picture.
    const toasts = page.locator('.toasts');
    const hasToasts = (await toasts.count()) > 0;
    if (hasToasts) await toasts.evaluate((element: HTMLElement) => (element.style.visibility = 'hidden'));
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    if (hasToasts) await toasts.evaluate((element: HTMLElement) => (element.style.visibility = ''));
  }

  /**
   * Signs in with the virtual authenticator. Without a login hint the page offers the passkey
   * through autofill (conditional UI), which the virtual authenticator answers by itself, so the
   * page must arrive with no press; with a hint it waits for the button.
   */
  async function passkeySignIn(page: Page, until: RegExp) {
    await page.waitForURL(/\/interaction\//);
    // Autofill may already have signed in and navigated on: then there is no button to press.
    const hint = await page.evaluate(() => document.body.dataset.hint ?? '').catch((error: Error) => {
      if (/context was destroyed|navigat/i.test(error.message)) return '';
      throw error;
    });
    if (hint) await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(until);
  }

  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name });

  it('bootstraps the first admin from `latchkey admins add` and its enrollment link', async () => {
    const printed = await cliFor(server.env).json('admins', 'add', 'root@acme.test', '--email', 'it@acme.test');
    expect(printed).toMatchObject({ username: 'root@acme.test', roles: ['admin'], created: true, console_url: `${server.url}/admin` });
    const { page } = admin;
    await page.goto(printed.enrollment_link);
    await expectAccessible(page, 'enrollment page');
    // Enter in the name field creates the passkey; then "Continue" leads on (no Okta app yet: the dashboard).
    await page.getByLabel('Passkey name (optional)').fill('Admin laptop');
    await page.getByLabel('Passkey name (optional)').press('Enter');
    await page.locator('#step-done').waitFor({ state: 'visible' });
    expect(await admin.credentials()).toHaveLength(1);
    expect(await page.getByRole('link', { name: 'Continue to your apps' }).getAttribute('href')).toBe('/');
    expect(await page.textContent('body')).not.toContain('works once');
    await expectAccessible(page, 'enrollment done');
  });

  it('signs in to /admin with the passkey and warns while fewer than two admins have one', async () => {
    const { page } = admin;
    await page.goto(`${server.url}/admin`);
    await passkeySignIn(page, /\/admin\/apps$/);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Applications');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('Only 1 admin has a passkey');
    await shot(page, '01-applications-empty');
  });

  it('adds the Okta (OIDC) app and shows client information and endpoints with copy buttons', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Add application' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add application' });
    await dialog.getByLabel('Okta domain').fill('https://acme.okta.com');
    await shot(page, '02-add-application');
    await dialog.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Okta' }).waitFor();
    const [app] = await server.services.apps.list();
    expect(app).toMatchObject({ kind: 'okta', oktaDomain: 'https://acme.okta.com', redirectUris: ['https://acme.okta.com/oauth2/v1/authorize/callback'] });
    await page.getByRole('tab', { name: 'Client & endpoints' }).click();
    await expect.poll(() => page.getByLabel('Client ID', { exact: true }).inputValue()).toBe(app.id);
    // The secret of a new app is shown right after creation; it is the one Latchkey stores.
    expect(await page.locator('#client-secret').inputValue()).toBe(server.services.apps.revealSecret(app));
    expect(await page.getByLabel('Token endpoint', { exact: true }).inputValue()).toBe(`${server.url}/token`);
    expect(await page.getByRole('button', { name: 'Copy JWKS URI' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Hide' }).click();
    await page.getByRole('button', { name: 'Reveal' }).click();
    await expect.poll(() => page.locator('#client-secret').inputValue()).toBe(server.services.apps.revealSecret(app));
    await shot(page, '03-okta-app-client-endpoints');
  });

  it('creates a SCIM bearer token, shown once, that the SCIM endpoint accepts', async () => {
    const { page } = admin;
    await page.getByRole('tab', { name: 'Provisioning' }).click();
    expect(await page.getByLabel('SCIM base URL', { exact: true }).inputValue()).toBe(`${server.url}/scim/v2`);
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('dialog', { name: 'Create SCIM bearer token' }).getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByLabel('SCIM bearer token', { exact: true }).inputValue();
    const scim = await fetch(`${server.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(scim.status).toBe(200);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await expect.poll(() => page.getByRole('row', { name: /Okta SCIM Token/ }).textContent()).toMatch(/Active/);
    // Shown once: after the reload the token is nowhere on the page, only its row.
    expect(await page.getByLabel('SCIM bearer token', { exact: true }).count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    await shot(page, '04-okta-app-provisioning');
  });

  it('tests the Okta connection for the registration attribute and shows why it failed', async () => {
    const { page } = admin;
    await page.getByRole('tab', { name: 'Okta registration attribute' }).click();
    await page.getByLabel('Okta domain').fill('http://127.0.0.1:9');
    await page.getByLabel('Okta API token').fill('00-not-a-real-token');
    await page.getByRole('button', { name: 'Test connection and save' }).click();
    await expect.poll(() => page.getByTestId('okta-test-result').textContent()).toContain('cannot be reached');
    await shot(page, '05-okta-app-registration-attribute');
  });

  it('assigns the Engineering group to the Okta app', async () => {
    const { page } = admin;
    await page.getByRole('tab', { name: 'Assignments' }).click();
    await page.getByRole('button', { name: 'Assign Engineering' }).click();
    await page.getByRole('button', { name: 'Unassign Engineering' }).first().waitFor();
    const [app] = await server.services.apps.list();
    expect((await server.services.apps.require(app.id)).assignedGroupIds).toEqual([engineering.id]);
    await shot(page, '06-okta-app-assignments');
  });

  it('adds a bookmark with an uploaded tile image and assigns it to Engineering', async () => {
    const { page } = admin;
    await nav(page, 'Applications').click();
    await page.getByRole('button', { name: 'Add application' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add application' });
    await dialog.getByText('Bookmark', { exact: true }).click();
    await dialog.getByLabel('Display name').fill('Engineering wiki');
    await dialog.getByLabel('Login link').fill('https://wiki.acme.test/login');
    await dialog.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Engineering wiki' }).waitFor();
    await page.getByRole('tab', { name: 'Tile image' }).click();
    const png = await sharp({ create: { width: 96, height: 96, channels: 4, background: { r: 19, g: 133, b: 107, alpha: 1 } } })
      .composite([{ input: Buffer.from('<svg width="96" height="96"><circle cx="48" cy="48" r="26" fill="white"/></svg>') }])
      .png()
      .toBuffer();
    await page.getByLabel('Upload tile image').setInputFiles({ name: 'wiki.png', mimeType: 'image/png', buffer: png });
    await page.getByRole('img', { name: 'Current tile image of Engineering wiki' }).waitFor();
    await shot(page, '07-bookmark-tile-image');
    await page.getByRole('tab', { name: 'Assignments' }).click();
    await page.getByRole('button', { name: 'Assign Engineering' }).click();
    await page.getByRole('button', { name: 'Unassign Engineering' }).first().waitFor();
    const wiki = (await server.services.apps.list()).find((app) => app.name === 'Engineering wiki')!;
    expect(wiki.assignedGroupIds).toEqual([engineering.id]);
    expect(wiki.iconDataUri).toMatch(/^data:image\/png;base64,/);
    // A second bookmark only Sales may see (set up directly: the dashboard must not show it to engineers).
    const crm = await server.services.apps.createBookmark({ name: 'CRM', loginUrl: 'https://crm.acme.test/' }, CLI_ACTOR);
    await server.services.apps.setAssignment(crm.id, sales.id, true, CLI_ACTOR);
    await nav(page, 'Applications').click();
    await page.getByRole('row', { name: /CRM/ }).waitFor();
    await shot(page, '08-applications');
  });

  it('bulk-sends enrollment emails to a filtered, multi-selected set, with a result per person', async () => {
    const { page } = admin;
    await nav(page, 'Identities').click();
    await page.getByLabel('Group').selectOption({ label: 'Engineering' });
    await page.getByLabel('Enrollment status').selectOption('unenrolled');
    await expect.poll(() => page.getByRole('navigation', { name: 'Identities pages' }).textContent()).toContain('of 8');
    await page.getByLabel('Select all identities on this page').check();
    await page.getByLabel('Select ada.lovelace@acme.test').uncheck();
    await shot(page, '09-identities');
    // Security notices of the passkeys enrolled so far go first, so the drain below counts invitations.
    const { worker } = mailSendingFor(server.services);
    await worker.drain();
    const before = sink.messages.length;
    await page.getByRole('button', { name: 'Add passkey(s) (7)' }).click();
    await page.getByRole('button', { name: 'Send 7 enrollment emails' }).click();
    await expect.poll(() => page.getByTestId('bulk-progress').textContent()).toContain('7 waiting');
    expect(await worker.drain()).toBe(7);
    await expect.poll(() => page.getByTestId('bulk-progress').textContent(), { timeout: 10_000 }).toContain('7 sent');
    await shot(page, '10-bulk-add-passkeys');
    const expected = engineers.filter((person) => person.userName !== 'ada.lovelace@acme.test').map((person) => person.email).sort();
    expect(sink.messages.slice(before).flatMap((message) => message.to).sort()).toEqual(expected);
    await page.getByRole('button', { name: 'Done' }).click();
  });

  it('shows an identity with its passkey (model, synced or device-bound) and revokes it', async () => {
    const bob = { identity: await server.services.identities.create({ userName: 'bob.builder@acme.test', email: 'bob.builder@acme.test', givenName: 'Bob', familyName: 'Builder' }, CLI_ACTOR) };
    await server.services.groups.change(engineering.id, { members: { add: [bob.identity.id] } }, CLI_ACTOR);
    const { url: bobLink } = await server.services.invites.issue(bob.identity, { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(bobLink, new SoftAuthenticator({ origin: server.url }), { name: 'Bob’s security key' })).status).toBe(200);
    const { page } = admin;
    await page.goto(`${server.url}/admin/identities/${bob.identity.id}`);
    const row = page.getByRole('row', { name: /security key/ });
    await expect.poll(() => row.first().textContent()).toMatch(/Device-bound|Synced/);
    await shot(page, '11-identity-passkeys');
    await page.getByRole('button', { name: /^Revoke passkey/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke passkey' }).click();
    await expect.poll(async () => (await server.services.passkeys.listFor(bob.identity.id)).length).toBe(0);
    // "Add passkey" > Generate link: a copyable link with its expiry.
    await page.getByRole('button', { name: 'Add passkey' }).click();
    await page.getByText('Generate link').click();
    await page.getByRole('button', { name: 'Generate link' }).click();
    expect(await page.getByLabel('Enrollment link', { exact: true }).inputValue()).toMatch(new RegExp(`^${server.url}/enroll/`));
    await expect.poll(() => page.getByRole('dialog').textContent()).toContain('Expires');
    await shot(page, '12-identity-generate-link');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('tab', { name: 'Profile & groups' }).click();
    await shot(page, '13-identity-profile');
  });

  it('lists groups with members, and the audit log filtered by kind', async () => {
    const { page } = admin;
    await nav(page, 'Groups').click();
    await page.getByRole('link', { name: 'Engineering' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Engineering');
    await expect.poll(() => page.getByRole('table', { name: 'Members' }).textContent()).toContain('Grace Hopper');
    await shot(page, '14-group-members');
    await nav(page, 'Groups').click();
    await page.getByRole('row', { name: /Sales/ }).waitFor();
    await shot(page, '15-groups');
    await nav(page, 'Audit log').click();
    await page.getByLabel('Kind').selectOption('admin');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByRole('table', { name: 'Audit events' }).textContent()).toContain('app.assign');
    await shot(page, '16-audit-log');
  });

  it('adds a person, makes them admin, deactivates and reactivates them; Okta-owned people say so', async () => {
    const { page } = admin;
    await nav(page, 'Identities').click();
    await page.getByRole('button', { name: 'Add person' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add person' });
    await dialog.getByLabel('Username', { exact: true }).fill('contractor@partner.test');
    await dialog.getByLabel('Given name').fill('Casey');
    await dialog.getByLabel('Family name').fill('Contractor');
    await shot(page, '19-add-person');
    await dialog.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('heading', { level: 1, name: 'Casey Contractor' }).waitFor();
    const casey = (await server.services.identities.findByUserName('contractor@partner.test'))!;
    expect(casey).toMatchObject({ email: 'contractor@partner.test', externalId: null, active: true });
    await page.getByRole('button', { name: 'Make admin' }).click();
    await page.getByRole('button', { name: 'Revoke admin role' }).waitFor();
    expect((await server.services.identities.require(casey.id)).roles).toContain('admin');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    expect((await server.services.identities.require(casey.id)).active).toBe(false);
    await shot(page, '20-identity-deactivated');
    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('button', { name: 'Deactivate' }).waitFor();
    expect((await server.services.identities.require(casey.id)).active).toBe(true);
    // A person Okta provisioned: the page says Okta owns them and offers no delete.
    await page.goto(`${server.url}/admin/identities/${engineers[1].id}`);
    await expect.poll(() => page.getByRole('note').first().textContent()).toContain('Okta provisioned this person');
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await expectAccessible(page, 'Okta-provisioned identity');
  });

  it('creates a group, adds and removes a member, and the audit log shows one entry per change and refusals with their reason', async () => {
    const { page } = admin;
    await createGroupWithMember(page, 'Contractors', { search: 'contractor@partner', option: 'Casey Contractor (contractor@partner.test)', shown: 'Casey Contractor' });
    await shot(page, '21-group-managed-here');
    const group = await server.services.groups.resolve('Contractors');
    expect(await server.services.groups.members(group.id)).toHaveLength(1);
    // A refused change: a second group with the same name.
    await nav(page, 'Groups').click();
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('dialog', { name: 'Create group' }).getByLabel('Group name').fill('contractors');
    await page.getByRole('dialog', { name: 'Create group' }).getByRole('button', { name: 'Create group' }).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'Create group' }).getByRole('alert').textContent()).toContain('already exists');
    await expectAccessible(page, 'create group refused');
    await page.getByRole('dialog', { name: 'Create group' }).getByRole('button', { name: 'Cancel' }).click();
    const events = await server.services.audit.list({ target: `group:${group.id}`, limit: 20 });
    expect(events.map((event) => event.action)).toEqual(['group.update', 'group.create']);
    await nav(page, 'Audit log').click();
    await page.getByLabel('Kind').selectOption('admin');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const refusal = page.getByRole('row', { name: /console\.refused/ }).first();
    await expect.poll(() => refusal.textContent()).toContain('already exists');
    await shot(page, '22-audit-refusal-reason');
  });

  it('lists the Okta domain of each app and warns before a second Okta app for the same org', async () => {
    const { page } = admin;
    await nav(page, 'Applications').click();
    await expect.poll(() => page.getByRole('row', { name: /Okta \(OIDC\)/ }).first().textContent()).toContain('https://acme.okta.com');
    await page.getByRole('button', { name: 'Add application' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add application' });
    await dialog.getByLabel('Okta domain').fill('acme.okta.com');
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('is already the Okta app for https://acme.okta.com');
    expect(await dialog.getByRole('button', { name: 'Create a second Okta app' }).count()).toBe(1);
    await shot(page, '23-second-okta-app-warning');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // The Okta app's Client & endpoints page: this test server's http://localhost is out of a real org's reach.
    const [okta] = (await server.services.apps.list()).filter((app) => app.kind === 'okta');
    await page.goto(`${server.url}/admin/apps/${okta.id}/client-endpoints`);
    await expect.poll(() => page.getByRole('note').first().textContent()).toContain('A real Okta org cannot reach this server');
    await expectAccessible(page, 'client & endpoints with reachability warning');
  });

  it('refuses the console to a non-admin, and their dashboard shows exactly their tiles', async () => {
    const person = await newPasskeyPage(browser);
    await person.page.setViewportSize({ width: 1100, height: 760 });
    const grace = engineers.find((candidate) => candidate.userName === 'grace.hopper@acme.test')!;
    const { page } = person;
    const { url } = await server.services.invites.issue(grace, { actor: CLI_ACTOR, delivery: 'link' });
    await page.goto(url);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#step-done').waitFor({ state: 'visible' });

    await page.goto(`${server.url}/admin`);
    await passkeySignIn(page, /\/admin\/callback/);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe('The admin console is for administrators');
    // A way out: her own apps, or signing out to use another account.
    expect(await page.getByRole('link', { name: 'Go to your apps' }).getAttribute('href')).toBe('/');
    expect(await page.getByRole('link', { name: 'Sign out to use another account' }).getAttribute('href')).toBe('/logout');
    await expectAccessible(page, 'console refused to a non-admin');

    await page.goto(`${server.url}/`);
    await passkeySignIn(page, new RegExp(`^${server.url}/$`));
    await page.getByRole('heading', { name: 'Hello, Grace Hopper' }).waitFor();
    const tiles = await page.getByRole('list', { name: 'Your apps' }).getByRole('link').allTextContents();
    expect(tiles).toEqual(['Engineering wiki']);
    await shot(page, '17-dashboard');

    // With a signed-in (non-admin) session, the admin API still refuses: 403.
    const status = await page.evaluate(async () => (await fetch('/admin/api/apps', { headers: { accept: 'application/json' } })).status);
    expect(status).toBe(403);
    expect((await page.goto(`${server.url}/admin`))?.status()).toBe(403);

    // Rename, then remove the only passkey only after the warning.
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: /^Rename passkey/ }).click();
    await page.getByLabel('Passkey name').fill('Work laptop');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Work laptop', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Remove passkey Work laptop' }).click();
    await expect.poll(() => page.getByRole('dialog').textContent()).toContain('This is your only passkey');
    await shot(page, '18-dashboard-remove-last-passkey');
    await page.getByRole('button', { name: 'Keep it' }).click();
    expect(await server.services.passkeys.listFor(grace.id)).toHaveLength(1);
    // "Add a passkey" opens a fresh enrollment link of her own.
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(new RegExp(`^${server.url}/enroll/`));
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Hi Grace Hopper');
    expect(await page.textContent('body')).toContain('You already have 1 passkey');
    await person.context.close();
  });
});

/**
 * The console on Redis. The story above runs on SQLite only, because it takes a minute and its
 * screenshots do not depend on the store; one representative pass here runs the console's own
 * state (its session, CSRF binding, the sign-in interaction, a change and the audit entry it
 * writes, sign-out) through the Redis adapter: bootstrap from the CLI link, sign in, create a
 * group and add a member, sign out.
 */
describe('admin console on Redis in Chromium (one representative pass)', { timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let admin: PasskeyPage;

  beforeAll(async () => {
    server = await startTestServer({ store: 'redis', env: { ORG_NAME: 'Acme Robotics' } });
    await server.services.identities.create({ userName: 'casey@acme.test', email: 'casey@acme.test', givenName: 'Casey', familyName: 'Member' }, CLI_ACTOR);
    browser = await launchChromium();
    admin = await newPasskeyPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('bootstraps an admin, signs in, changes a group, and signs out', async () => {
    const { page } = admin;
    const printed = await cliFor(server.env).json('admins', 'add', 'root@acme.test', '--email', 'it@acme.test');
    await page.goto(printed.enrollment_link);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#step-done').waitFor({ state: 'visible' });

    await page.goto(`${server.url}/admin`);
    await page.waitForURL(/\/interaction\//);
    await page.waitForURL(/\/admin\/apps$/); // autofill: the virtual authenticator answers by itself
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Applications');
    await expectAccessible(page, 'console on Redis');

    await createGroupWithMember(page, 'Contractors', { search: 'casey@acme', option: 'Casey Member (casey@acme.test)', shown: 'Casey Member' });
    await expectAccessible(page, 'group on Redis');
    const group = await server.services.groups.resolve('Contractors');
    const casey = await server.services.identities.resolve('casey@acme.test');
    expect(await server.services.groups.members(group.id)).toEqual([casey!.id]);
    expect((await server.services.audit.list({ target: `group:${group.id}`, limit: 20 })).map((event) => event.action)).toEqual(['group.update', 'group.create']);

    // Signing out ends the console session in the store: the API answers 401 afterwards.
    const before = await page.evaluate(async () => (await fetch('/admin/api/session', { headers: { accept: 'application/json' } })).status);
    expect(before).toBe(200);
    await page.evaluate(async () => {
      await fetch('/admin/logout', { method: 'POST', redirect: 'manual' });
    });
    const after = await page.evaluate(async () => (await fetch('/admin/api/session', { headers: { accept: 'application/json' } })).status);
    expect(after).toBe(401);
  });
});

/**
 * In the console: Groups, "Create group" named `group` (Enter submits), then "Add member" found by
 * `search` and picked by its option label; returns when the members table shows them.
 */
async function createGroupWithMember(page: Page, group: string, member: { search: string; option: string; shown: string }) {
  await page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('dialog', { name: 'Create group' }).getByLabel('Group name').fill(group);
  await page.getByRole('dialog', { name: 'Create group' }).getByLabel('Group name').press('Enter');
  await page.getByRole('heading', { level: 1, name: group }).waitFor();
  await page.getByRole('button', { name: 'Add member' }).click();
  const dialog = page.getByRole('dialog', { name: `Add a member to ${group}` });
  await dialog.getByLabel('Find a person').fill(member.search);
  await expect.poll(() => dialog.getByRole('combobox').locator('option').count()).toBe(2);
  await dialog.getByRole('combobox').selectOption({ label: member.option });
  await dialog.getByRole('button', { name: 'Add member' }).click();
  await expect.poll(() => page.getByRole('table', { name: 'Members' }).textContent()).toContain(member.shown);
}
