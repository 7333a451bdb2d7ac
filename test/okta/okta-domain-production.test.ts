/**
 * In production, `okta configure` refuses an Okta domain that resolves to a loopback or private
 * address before any request (with the API token) leaves for it; development keeps loopback for
 * the Okta simulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../server/ports/storage.ts';
import { loadConfig } from '../../server/config.ts';
import { createServices } from '../../server/bootstrap.ts';
import { assertPublicOktaDomain, configureOkta } from '../../server/edges/okta/okta-configure.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

const SECRET = 'x'.repeat(40);

describe('Okta domain in production', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-okta-prod-'));
    store = await openSqliteStore({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const servicesFor = (env: Record<string, string>) => createServices(loadConfig({ DATA_DIR: dir, PUBLIC_URL: 'https://id.example.com', LATCHKEY_SECRET: SECRET, COOKIE_KEYS: SECRET, ...env }), store);

  it('refuses loopback and private addresses before sending the token anywhere', async () => {
    const services = servicesFor({ NODE_ENV: 'production' });
    const calls: string[] = [];
    const fetchSpy = (async (input: string | URL | Request) => {
      calls.push(String(input));
      throw new Error('no request may be sent');
    }) as typeof fetch;
    for (const [domain, reason] of [
      ['https://127.0.0.1', 'loopback'],
      ['https://localhost', 'loopback'],
      ['https://10.20.30.40', 'private'],
      ['https://192.168.1.10:8443', 'private'],
      ['https://169.254.169.254', 'private or link-local'],
      ['https://[::1]', 'loopback'],
    ]) {
      await expect(configureOkta(services, { domain, token: 'secret-token' }, CLI_ACTOR, { fetch: fetchSpy })).rejects.toThrow(new RegExp(`refused in production: .* ${reason}`));
    }
    expect(calls).toEqual([]);
    expect(await store.settings.get('okta.connection')).toBeNull();
  });

  it('checks every address a name resolves to (one private address is enough to refuse)', async () => {
    await expect(assertPublicOktaDomain('https://dev-1.okta.com', async () => ['34.1.2.3', '192.168.0.7'])).rejects.toThrow(/192\.168\.0\.7 is a private/);
    await expect(assertPublicOktaDomain('https://dev-1.okta.com', async () => ['34.1.2.3'])).resolves.toBeUndefined();
    await expect(assertPublicOktaDomain('https://nowhere.invalid', async () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })))).rejects.toThrow(/does not resolve \(ENOTFOUND\)/);
  });

  it('keeps loopback usable outside production (the Okta simulator)', async () => {
    const services = servicesFor({ NODE_ENV: 'development' });
    const fetchSpy = (async () => new Response('{}', { status: 401, headers: { 'content-type': 'application/json' } })) as typeof fetch;
    await expect(configureOkta(services, { domain: 'http://127.0.0.1:9', token: 't' }, CLI_ACTOR, { fetch: fetchSpy })).rejects.toThrow(/token rejected|does not answer/);
  });
});
