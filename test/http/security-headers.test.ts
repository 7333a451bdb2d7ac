/**
 * The README's browser baseline on every kind of HTML page Latchkey serves: a strict CSP that
 * refuses framing (frame-ancestors 'none', CSP Level 3 §6.4.2) with X-Frame-Options DENY for older
 * browsers (RFC 7034), nosniff and no caching; and no inline script the CSP would have to allow.
 * Pages: enrollment, sign-in, console, dashboard, and the error pages (enrollment link unknown,
 * console refused, an OIDC error, an unknown path). JSON and assets get the non-HTML policy.
 * The headers do not depend on the store, so one store runs here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { browse, CookieJar, follow, signInOverHttp } from '../support/http-login.ts';
import { createPerson, enrolledPerson } from '../support/builders.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

function expectStrictHtmlHeaders(response: Response, body: string, what: string) {
  expect(response.headers.get('content-type'), what).toMatch(/^text\/html/);
  const csp = response.headers.get('content-security-policy') ?? '';
  const directives = new Map(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
  expect(directives.get('frame-ancestors'), `${what}: ${csp}`).toEqual(["'none'"]);
  expect(directives.get('default-src'), `${what}: ${csp}`).toEqual(["'none'"]);
  expect(directives.get('base-uri'), `${what}: ${csp}`).toEqual(["'none'"]);
  const scripts = directives.get('script-src') ?? [];
  expect(scripts[0], `${what}: ${csp}`).toBe("'self'");
  expect(scripts, `${what}: ${csp}`).not.toContain("'unsafe-inline'");
  expect(scripts, `${what}: ${csp}`).not.toContain("'unsafe-eval'");
  expect(response.headers.get('x-frame-options'), what).toBe('DENY');
  expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(response.headers.get('cache-control'), what).toBe('no-store');
  // Nothing the CSP would block: every script is an external file of our own origin.
  const inline = [...body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].filter(([, attributes, content]) => !/\bsrc=/.test(attributes) || content.trim() !== '');
  expect(inline.map(([tag]) => tag.slice(0, 80)), what).toEqual([]);
  expect(body, what).not.toMatch(/\son[a-z]+="/i);
}

describe('security headers on every HTML page', () => {
  let server: TestServer;
  let adminJar: CookieJar;
  let memberJar: CookieJar;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
    okta = await setUpOkta(server);
    const admin = await enrolledPerson(server, 'root@acme.test');
    await server.services.identities.update(admin.identity.id, { roles: [ADMIN_ROLE] }, CLI_ACTOR);
    const member = await enrolledPerson(server, 'member@acme.test', okta.group.id);
    adminJar = (await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/admin/login`, authenticator: admin.authenticator })).jar;
    memberJar = (await signInOverHttp({ origin: server.url, authorizationUrl: `${server.url}/login`, authenticator: member.authenticator })).jar;
  });
  afterAll(async () => server?.close());

  async function page(jar: CookieJar, path: string, status: number) {
    const response = await browse(jar, path.startsWith('http') ? path : `${server.url}${path}`);
    const body = await response.text();
    expect(response.status, `${path}: ${body.slice(0, 200)}`).toBe(status);
    return { response, body };
  }

  it('the enrollment page', async () => {
    const person = await createPerson(server, 'new@acme.test');
    const { url } = await server.services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'link' });
    const { response, body } = await page(new CookieJar(), url, 200);
    expectStrictHtmlHeaders(response, body, 'enrollment page');
  });

  it('the sign-in page', async () => {
    const landing = await follow(new CookieJar(), authorizationUrl(okta.rp).url, server.url);
    expect(landing.url).toContain('/interaction/');
    expectStrictHtmlHeaders(landing.response, await landing.response.text(), 'sign-in page');
  });

  it('the console and the dashboard', async () => {
    const console = await page(adminJar, '/admin', 200);
    expect(console.body).toContain('data-csrf=');
    expectStrictHtmlHeaders(console.response, console.body, 'console');
    const deep = await page(adminJar, '/admin/identities', 200);
    expectStrictHtmlHeaders(deep.response, deep.body, 'console deep link');
    const dashboard = await page(memberJar, '/', 200);
    expectStrictHtmlHeaders(dashboard.response, dashboard.body, 'dashboard');
  });

  it('the error pages: unknown enrollment link, console refused, OIDC error, unknown path', async () => {
    const unknownLink = await page(new CookieJar(), `/enroll/${'x'.repeat(43)}`, 404);
    expectStrictHtmlHeaders(unknownLink.response, unknownLink.body, 'unknown enrollment link');
    const refused = await page(memberJar, '/admin', 403);
    expect(refused.body).toContain('The admin console is for administrators');
    expectStrictHtmlHeaders(refused.response, refused.body, 'console refused');
    const oidcError = await page(new CookieJar(), '/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb', 400);
    expectStrictHtmlHeaders(oidcError.response, oidcError.body, 'OIDC error page');
    const missing = await browse(new CookieJar(), `${server.url}/no-such-page`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    const missingBody = await missing.text();
    if ((missing.headers.get('content-type') ?? '').startsWith('text/html')) expectStrictHtmlHeaders(missing, missingBody, 'unknown path');
    else expect(missing.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(missing.headers.get('x-frame-options')).toBe('DENY');
  });

  it('JSON answers and assets refuse framing too', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks', '/healthz']) {
      const response = await browse(new CookieJar(), `${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});
