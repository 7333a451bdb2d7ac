/**
 * `npm run demo` as a person uses it: the command starts Latchkey and the simulated Okta org and
 * wires them together; then, in Chromium, the person opens the enrollment link it printed, creates
 * a passkey, Latchkey flips byndidRegistered at "Okta", and signing in at Okta routes to Latchkey
 * and back to Okta's dashboard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, newPasskeyPage, type PasskeyPage } from '../support/browser.ts';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm run demo', () => {
  let demo: ChildProcess;
  let output = '';
  let browser: Browser;
  let person: PasskeyPage;
  const printed = { aliceLink: '', oktaUrl: '', token: '' };

  beforeAll(async () => {
    const env = { ...process.env, DEMO_PORT: String(await freePort()), OKTA_SIM_PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    demo = spawn(path.resolve('node_modules/.bin/tsx'), ['test/okta-sim/demo.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      demo.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ctrl-C stops both.')) resolve();
      });
      demo.on('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
    });
    printed.aliceLink = /alice@example\.com: (\S+\/enroll\/\S+)/.exec(output)![1];
    printed.oktaUrl = /Sign in at Okta: (\S+)\/login/.exec(output)![1];
    printed.token = /\(SSWS\) of the org's super admin: (\S+)/.exec(output)![1];
    browser = await launchChromium();
    person = await newPasskeyPage(browser);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo.once('exit', resolve));
      demo.kill('SIGTERM');
      await exited;
    }
  });

  const oktaUser = async () => {
    const response = await fetch(`${printed.oktaUrl}/api/v1/users/alice@example.com`, { headers: { authorization: `SSWS ${printed.token}`, accept: 'application/json' } });
    return (await response.json()) as { profile: Record<string, unknown> };
  };

  it('prints working links: the enrollment link creates a passkey, and the flag reaches Okta', async () => {
    expect((await oktaUser()).profile.byndidRegistered).toBeUndefined();
    const { page } = person;
    await page.goto(printed.aliceLink);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#step-done').waitFor({ state: 'visible' });
    // The server's own Okta sync worker delivers it (it checks for a connection every 15 s).
    await expect.poll(async () => (await oktaUser()).profile.byndidRegistered, { timeout: 60_000, interval: 500 }).toBe(true);
  }, 90_000);

  it('signs in at Okta: routed to Latchkey, passkey, back on Okta’s dashboard', async () => {
    const { page } = person;
    await page.goto(`${printed.oktaUrl}/login`);
    await page.getByLabel('Username').fill('alice@example.com');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${printed.oktaUrl}/app/UserHome`);
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('alice@example.com');
    expect(await page.getByTestId('registered').textContent()).toBe('true');
  }, 60_000);
});
