/**
 * The whole sign-in as a browser would do it, over plain HTTP with a cookie jar and a software
 * authenticator: authorize -> login page -> passkey options -> assertion -> resume -> code.
 * Used by HTTP-level tests and by the load generator.
 */
import type { SoftAuthenticator } from './soft-authenticator.ts';

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  /** The last Set-Cookie header seen for each name, attributes included. */
  readonly setCookies = new Map<string, string>();
  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      this.setCookies.set(name, header);
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export async function browse(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header() } });
  jar.store(response);
  return response;
}

/** Follows redirects on the IdP's origin; stops at (and returns) the first one leaving it. */
export async function follow(jar: CookieJar, url: string, origin: string): Promise<{ response: Response; url: string }> {
  let current = url;
  for (let hops = 0; hops < 10; hops++) {
    const response = await browse(jar, current);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
    const next = new URL(location, current).href;
    if (!next.startsWith(origin)) return { response, url: next };
    current = next;
  }
  throw new Error('too many redirects');
}

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => entities[entity]);

export function pageData(htmlText: string): Record<string, string> {
  const body = /<body([^>]*)>/.exec(htmlText)?.[1] ?? '';
  return Object.fromEntries([...body.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map((match) => [match[1], unescapeHtml(match[2])]));
}

export async function postJson(jar: CookieJar, url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await browse(jar, url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

export interface LoginResult {
  /** Where the IdP finally sent the browser (the RP's redirect_uri with code or error). */
  callbackUrl: string;
  verify: { status: number; body: any };
}

/** Runs a sign-in from an authorization URL to the RP callback. */
export async function signInOverHttp(options: {
  origin: string;
  authorizationUrl: string;
  authenticator: SoftAuthenticator;
  jar?: CookieJar;
  tamper?: (assertion: Record<string, any>) => Record<string, any>;
  assertionOverrides?: Parameters<SoftAuthenticator['authenticate']>[1];
}): Promise<LoginResult & { jar: CookieJar; assertion: Record<string, any>; uid: string; csrf: string; final?: Response }> {
  const jar = options.jar ?? new CookieJar();
  const landing = await follow(jar, options.authorizationUrl, options.origin);
  if (!landing.url.includes('/interaction/')) throw new Error(`expected the login page, got ${landing.response.status} at ${landing.url}`);
  const data = pageData(await landing.response.text());
  const headers = { origin: options.origin, 'x-csrf-token': data.csrf };
  // As the page's script does: the options embedded in the page serve the first attempt.
  const requestOptions = JSON.parse(data.options);
  let assertion = options.authenticator.authenticate(requestOptions, options.assertionOverrides) as Record<string, any>;
  if (options.tamper) assertion = options.tamper(assertion);
  const verify = await postJson(jar, `${options.origin}/interaction/${data.uid}/passkey/verify`, assertion, headers);
  const next = verify.body?.redirect ?? verify.body?.continue_to;
  if (!next) return { callbackUrl: '', verify, jar, assertion, uid: data.uid, csrf: data.csrf };
  const done = await follow(jar, next, options.origin);
  return { callbackUrl: done.url, verify, jar, assertion, uid: data.uid, csrf: data.csrf, final: done.response };
}

/** Enrolls a software passkey through the real enrollment endpoints of a magic link. */
export async function enrollOverHttp(link: string, authenticator: SoftAuthenticator, options: { name?: string; origin?: string } = {}) {
  const jar = new CookieJar();
  const url = new URL(link);
  const page = await browse(jar, link);
  if (page.status !== 200) throw new Error(`enrollment page answered ${page.status}`);
  const data = pageData(await page.text());
  const headers = { origin: options.origin ?? url.origin, 'x-csrf-token': data.csrf };
  const creation = await postJson(jar, `${link}/options`, {}, headers);
  if (creation.status !== 200) return { status: creation.status, body: creation.body, response: null };
  const response = await authenticator.register(creation.body);
  const verify = await postJson(jar, `${link}/verify`, { response, name: options.name }, headers);
  return { ...verify, response };
}
