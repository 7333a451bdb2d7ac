/**
 * Debian's Chromium driven by playwright-core, with a CDP virtual authenticator (CTAP2, internal
 * transport, resident keys, user verification that always succeeds) standing in for a platform
 * passkey provider.
 */
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((candidate) => existsSync(candidate)) ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface PasskeyPage {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  credentials(): Promise<Array<{ credentialId: string; signCount: number; userHandle?: string }>>;
}

/**
 * `kind` picks what the virtual authenticator makes: 'platform' (default: internal transport, the
 * credentials' backup flags left to Chromium), 'synced' (backup eligible and backed up, BE=BS=1,
 * as iCloud Keychain or Google Password Manager make), or 'security-key' (USB, device-bound:
 * BE=BS=0).
 */
export async function newPasskeyPage(browser: Browser, kind: 'platform' | 'synced' | 'security-key' = 'platform'): Promise<PasskeyPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const flags = kind === 'synced' ? { defaultBackupEligibility: true, defaultBackupState: true } : kind === 'security-key' ? { defaultBackupEligibility: false, defaultBackupState: false } : {};
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: kind === 'security-key' ? 'usb' : 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true, ...flags },
  });
  return {
    context,
    page,
    cdp,
    authenticatorId,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials;
    },
  };
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (every rule it ships except experimental ones: WCAG 2.x A/AA plus best practices
 * such as heading-order) on the page as it is now, and fails with each violation and its nodes.
 * The script goes in through addScriptTag when the page's CSP allows it, else through the
 * DevTools protocol (page.evaluate), which CSP does not govern: our pages forbid inline script, and
 * loosening that for the test would hide a CSP regression.
 */
export async function expectAccessible(page: Page, context = page.url()): Promise<void> {
  const loaded = () => page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!(await loaded())) {
    await page.addScriptTag({ content: AXE_SOURCE }).catch(() => undefined);
    if (!(await loaded())) await page.evaluate(AXE_SOURCE);
  }
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> } }).axe;
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.slice(0, 5).map((node) => `${node.target.join(' ')}: ${node.failureSummary ?? ''}`) }));
  });
  if (violations.length > 0) {
    throw new Error(`axe-core found ${violations.length} accessibility violation(s) on ${context}:\n${violations.map((violation) => `- ${violation.id} (${violation.impact}): ${violation.help}\n    ${violation.nodes.join('\n    ')}`).join('\n')}`);
  }
}
