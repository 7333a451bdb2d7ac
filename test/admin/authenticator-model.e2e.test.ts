/**
 * Authenticator models in Chromium (issue 16): the console's passkeys tab and the dashboard show
 * each passkey's model with its icon, from the community list (Apple Passwords, an SVG) and from
 * an imported FIDO metadata statement (the test MDS key, a PNG), as <img> elements with data:
 * URLs that the page's CSP allows; both pages pass axe-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { expectAccessible, launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';
import { cliFor } from '../support/cli.ts';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const APPLE = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';

describe('authenticator models and icons in the console and the dashboard', { timeout: 120_000 }, () => {
  let mds: MdsFixture;
  let server: TestServer;
  let browser: Browser;
  let admin: PasskeyPage;

  beforeAll(async () => {
    mds = await createMdsFixture();
    server = await startTestServer({ store: 'sqlite', env: { FIDO_MDS_ROOT_CERT: mds.rootPemFile } });
    await server.services.authenticatorMetadata.import(await verifyMetadataBlob(await mds.blob({ no: 1 }), mds.root.pem), CLI_ACTOR);
    await server.app.metadata.settled();
    browser = await launchChromium();
    admin = await newPasskeyPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signIn(page: Page, until: RegExp) {
    await page.waitForURL(/\/interaction\//);
    const arrived = await page.waitForURL(until, { timeout: 8_000 }).then(() => true, () => false);
    if (!arrived) {
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.waitForURL(until);
    }
  }

  /** Every model image on the page: its alt, whether it loaded (CSP allows it), and its kind. */
  const icons = (page: Page) =>
    page.locator('img.authenticator-icon').evaluateAll((images) =>
      (images as HTMLImageElement[]).map((image) => ({ loaded: image.complete && image.naturalWidth > 0, kind: image.src.slice(0, 22), text: image.parentElement?.textContent })),
    );

  it('shows the model and its icon on the passkeys tab and the dashboard', async () => {
    const printed = await cliFor(server.env).json('admins', 'add', 'root@acme.test');
    const { page } = admin;
    await page.goto(printed.enrollment_link);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#step-done').waitFor({ state: 'visible', timeout: 10_000 }).catch(async (error) => {
      throw new Error(`enrollment did not finish; the page says: ${await page.locator('main').textContent()}`, { cause: error });
    });
    const root = (await server.services.identities.findByUserName('root@acme.test'))!;
    // Two more passkeys of known models (their keys never sign: only their display is under test).
    await server.services.passkeys.add({ id: 'apple-passkey', identityId: root.id, publicKey: 'cHVi', counter: 0, transports: ['internal'], aaguid: APPLE, deviceType: 'multiDevice', backedUp: true, attestationFormat: 'none', attested: false, name: 'iPhone' }, CLI_ACTOR);
    await server.services.passkeys.add({ id: 'test-key', identityId: root.id, publicKey: 'cHVi', counter: 0, transports: ['usb'], aaguid: mds.aaguid, deviceType: 'singleDevice', backedUp: false, attestationFormat: 'packed', attested: true, name: 'Desk key' }, CLI_ACTOR);

    await page.goto(`${server.url}/admin`);
    await signIn(page, /\/admin\/apps$/);
    await page.goto(`${server.url}/admin/identities/${encodeURIComponent(root.id)}`);
    const table = page.getByRole('table', { name: 'Passkeys of root@acme.test' });
    await table.getByText('Apple Passwords').waitFor();
    await expect.poll(() => icons(page)).toEqual(
      expect.arrayContaining([
        { loaded: true, kind: 'data:image/svg+xml;bas', text: 'Apple Passwords' },
        { loaded: true, kind: 'data:image/png;base64,', text: mds.description },
      ]),
    );
    expect(await table.getByText('Unknown model').count()).toBe(1);
    await expectAccessible(page, 'passkeys tab with models');

    await page.goto(`${server.url}/`);
    await page.getByText('Desk key').waitFor();
    await expect.poll(() => icons(page)).toEqual(
      expect.arrayContaining([
        { loaded: true, kind: 'data:image/svg+xml;bas', text: 'Apple Passwords' },
        { loaded: true, kind: 'data:image/png;base64,', text: mds.description },
      ]),
    );
    await expectAccessible(page, 'dashboard with models');
  });
});
