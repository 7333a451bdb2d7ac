/**
 * Login throughput: the complete passkey login against Latchkey (authorize -> login page with
 * its passkey options -> ES256 assertion -> verify -> resume -> code -> token -> userinfo) on each store, and the
 * same code flow against a bare oidc-provider whose login is finished programmatically.
 */
import { randomBytes } from 'node:crypto';
import type { StoreKind, TestServer } from '../test/support/test-server.ts';
import { setUpOkta, enrolledPerson, authorizationUrl, OKTA_CALLBACK } from '../test/support/okta-fixture.ts';
import { pageData } from '../test/support/http-login.ts';
import { LeanBrowser, request } from './http-client.ts';
import { SoftAuthenticator } from '../test/support/soft-authenticator.ts';
import { startLatchkey } from './latchkey-under-test.ts';
import { freePort, startServerProcess } from './server-process.ts';
import { drive, type LoadResult } from './stats.ts';

async function redeem(issuer: string, callbackUrl: string, clientId: string, clientSecret: string): Promise<void> {
  const code = new URL(callbackUrl).searchParams.get('code');
  if (!code) throw new Error(`no code in ${callbackUrl}`);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const token = await request('POST', `${issuer}/token`, { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OKTA_CALLBACK }).toString());
  const tokens = JSON.parse(token.text) as { access_token?: string; id_token?: string };
  if (!tokens.id_token || !tokens.access_token) throw new Error(`token endpoint answered ${token.status}`);
  const userinfo = await request('GET', `${issuer}/userinfo`, { authorization: `Bearer ${tokens.access_token}` });
  if (userinfo.status !== 200) throw new Error(`userinfo answered ${userinfo.status}`);
}

/** What the login page's script does: use the embedded options, assert, post, follow the redirect. */
async function passkeyLogin(origin: string, authorizationUrl: string, authenticator: SoftAuthenticator): Promise<string> {
  const browser = new LeanBrowser();
  const page = await browser.follow(authorizationUrl, origin);
  const data = pageData(page.response.text);
  const assertion = authenticator.authenticate(JSON.parse(data.options));
  const verify = await browser.send('POST', `${origin}/interaction/${data.uid}/passkey/verify`, { 'content-type': 'application/json', origin, 'x-csrf-token': data.csrf }, JSON.stringify(assertion));
  const redirect = (JSON.parse(verify.text) as { redirect?: string }).redirect;
  if (!redirect) throw new Error(`login refused: ${verify.text}`);
  return (await browser.follow(redirect, origin)).url;
}

export async function benchLatchkeyLogin(store: StoreKind, logins: number, concurrency: number, people = 64): Promise<LoadResult> {
  const latchkey = await startLatchkey(store);
  // The fixtures need only the URL and the services of a server.
  const server = { url: latchkey.url, services: latchkey.services } as TestServer;
  try {
    const okta = await setUpOkta(server);
    const authenticators: SoftAuthenticator[] = [];
    for (let index = 0; index < people; index++) {
      const person = await enrolledPerson(server, `bench${index}@example.com`, okta.group.id);
      authenticators.push(person.authenticator);
    }
    // Synced passkeys report a zero counter; using it keeps concurrent logins of one person valid.
    for (const authenticator of authenticators) (authenticator as unknown as { counterStep: number }).counterStep = 0;
    const run = (index: number) => async () => {
      const { url } = authorizationUrl(okta.rp);
      const callbackUrl = await passkeyLogin(server.url, url, authenticators[index % people]);
      if (!callbackUrl.startsWith(OKTA_CALLBACK)) throw new Error(`login ended at ${callbackUrl}`);
      await redeem(server.url, callbackUrl, okta.app.id, okta.clientSecret);
    };
    await drive(Math.min(50, logins), concurrency, (index) => run(index)()); // warm-up
    return await drive(logins, concurrency, (index) => run(index)());
  } finally {
    await latchkey.close();
  }
}

export async function benchBareProvider(logins: number, concurrency: number): Promise<LoadResult> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const child = await startServerProcess('bench/bare-provider-main.ts', { PORT: String(port), REDIRECT_URI: OKTA_CALLBACK, CLIENT_SECRET: clientSecret }, issuer, '/.well-known/openid-configuration');
  const bare = { issuer, client: { client_id: 'bare', client_secret: clientSecret } };
  try {
    const run = async () => {
      const params = new URLSearchParams({ client_id: bare.client.client_id, redirect_uri: OKTA_CALLBACK, response_type: 'code', scope: 'openid email profile', state: crypto.randomUUID(), nonce: crypto.randomUUID() });
      const done = await new LeanBrowser().follow(`${bare.issuer}/authorize?${params}`, bare.issuer);
      if (!done.url.startsWith(OKTA_CALLBACK)) throw new Error(`bare provider stopped at ${done.url}`);
      await redeem(bare.issuer, done.url, bare.client.client_id, bare.client.client_secret);
    };
    await drive(Math.min(50, logins), concurrency, run);
    return await drive(logins, concurrency, run);
  } finally {
    await child.stop();
  }
}
