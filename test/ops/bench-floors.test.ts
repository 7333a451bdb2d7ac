/**
 * The benchmark's passkey floor (bench/passkey-floor.ts) is a lower bound only if it does the
 * work it claims: a login there must need a valid assertion for a challenge it issued, used once,
 * and end in a code the token endpoint redeems for an RS256 ID token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPasskeyFloor } from '../../bench/passkey-floor.ts';
import { LeanBrowser, request } from '../../bench/http-client.ts';
import { pageData } from '../support/http-login.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const CALLBACK = 'https://okta.example.com/oauth2/v1/authorize/callback';
const SECRET = 'passkey-floor-test-secret-of-enough-length';

describe('the passkey floor of the login benchmark', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-floor-'));
  let floor: Awaited<ReturnType<typeof startPasskeyFloor>>;
  let authenticator: SoftAuthenticator;

  beforeAll(async () => {
    floor = await startPasskeyFloor(CALLBACK, 0, SECRET, dataDir);
    authenticator = new SoftAuthenticator({ origin: floor.issuer });
    const options = await request('POST', `${floor.issuer}/enroll/person-1/options`, {});
    const enrolled = await request('POST', `${floor.issuer}/enroll/person-1`, { 'content-type': 'application/json' }, JSON.stringify(await authenticator.register(JSON.parse(options.text))));
    expect(enrolled.status).toBe(200);
  });
  afterAll(async () => {
    await floor?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Opens a sign-in and answers its challenge: the browser, the page's data and the assertion. */
  async function startSignIn() {
    const browser = new LeanBrowser();
    const params = new URLSearchParams({ client_id: 'bare', redirect_uri: CALLBACK, response_type: 'code', scope: 'openid email', state: 's', nonce: 'n' });
    const page = await browser.follow(`${floor.issuer}/authorize?${params}`, floor.issuer);
    const data = pageData(page.response.text);
    const assertion = authenticator.authenticate(JSON.parse(data.options));
    const verify = (body: unknown) => browser.send('POST', `${floor.issuer}/interaction/${data.uid}/passkey/verify`, { 'content-type': 'application/json' }, JSON.stringify(body));
    return { browser, assertion, verify };
  }

  it('signs a person in with a valid assertion, once, and the code redeems for an RS256 ID token', async () => {
    const { browser, assertion, verify } = await startSignIn();
    const answer = await verify(assertion);
    expect(answer.status).toBe(200);
    const done = await browser.follow(JSON.parse(answer.text).redirect, floor.issuer);
    const code = new URL(done.url).searchParams.get('code');
    expect(code).toBeTruthy();
    const token = await request('POST', `${floor.issuer}/token`, {
      authorization: `Basic ${Buffer.from(`bare:${SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    }, new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: CALLBACK }).toString());
    const idToken = JSON.parse(token.text).id_token as string;
    expect(JSON.parse(Buffer.from(idToken.split('.')[0], 'base64url').toString()).alg).toBe('RS256');
    expect(JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).sub).toBe('person-1');

    // The challenge was used: the same assertion again is refused.
    expect((await verify(assertion)).status).toBe(400);
  });

  it('refuses an assertion whose signature does not verify', async () => {
    const { assertion, verify } = await startSignIn();
    const response = assertion.response as { signature: string };
    const signature = Buffer.from(response.signature, 'base64url');
    signature[signature.length - 1] ^= 0x01;
    const answer = await verify({ ...assertion, response: { ...response, signature: signature.toString('base64url') } });
    expect(answer.status).toBe(400);
    expect(answer.text).not.toContain('redirect');
  });
});
