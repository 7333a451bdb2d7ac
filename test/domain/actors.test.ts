/**
 * Domain operations take a typed Actor: a person acting on their own account is audited as `self`,
 * an administrator as `admin`, and every passkey change reaches every listener bootstrap.ts wires.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../server/ports/storage.ts';
import { loadConfig } from '../../server/config.ts';
import { createServices, type Services } from '../../server/bootstrap.ts';
import { adminActor, actorRef, CLI_ACTOR, scimActor, selfActor, systemActor } from '../../server/domain/actor.ts';
import { OKTA_SYNC_QUEUE } from '../../server/edges/okta/okta-sync.ts';

const passkeyFor = (identityId: string, id: string) => ({ id, identityId, publicKey: 'cHVi', counter: 0, transports: ['internal'], aaguid: '00000000-0000-0000-0000-000000000000', deviceType: 'multiDevice' as const, backedUp: true, attestationFormat: 'none', attested: false, name: 'Laptop' });

describe('actors', () => {
  let dir: string;
  let store: Store;
  let services: Services;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-actors-'));
    store = await openSqliteStore({ dataDir: dir });
    services = createServices(loadConfig({ DATA_DIR: dir, PUBLIC_URL: 'http://localhost:3999' }), store);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores readable actor references', () => {
    expect(actorRef(adminActor('a1'))).toBe('identity:a1');
    expect(actorRef(selfActor('a1'))).toBe('identity:a1');
    expect(actorRef(scimActor('t1'))).toBe('scim-token:t1');
    expect(actorRef(CLI_ACTOR)).toBe('cli');
    expect(actorRef(systemActor('mail'))).toBe('system:mail');
  });

  it('audits a person renaming their own passkey as self, and an admin revoking it as admin', async () => {
    const alice = await services.identities.create({ userName: 'alice@acme.test', email: 'alice@acme.test' }, CLI_ACTOR);
    const admin = await services.identities.create({ userName: 'root@acme.test', email: 'root@acme.test', roles: ['admin'] }, CLI_ACTOR);
    await services.passkeys.add(passkeyFor(alice.id, 'pk-1'), selfActor(alice.id));
    await services.passkeys.rename('pk-1', 'Work laptop', selfActor(alice.id));
    await services.passkeys.revoke('pk-1', adminActor(admin.id));
    const events = await services.audit.list({ limit: 20 });
    const rename = events.find((event) => event.action === 'passkey.rename')!;
    const revoke = events.find((event) => event.action === 'passkey.revoke')!;
    expect(rename).toMatchObject({ kind: 'self', actor: `identity:${alice.id}` });
    expect(revoke).toMatchObject({ kind: 'admin', actor: `identity:${admin.id}`, target: `identity:${alice.id}` });
    expect(events.find((event) => event.action === 'identity.create')).toMatchObject({ kind: 'cli', actor: 'cli' });
  });

  it('passkey changes made through any service instance record the Okta flag job (CLI included)', async () => {
    const alice = await services.identities.create({ userName: 'alice@acme.test', email: 'alice@acme.test' }, CLI_ACTOR);
    await services.passkeys.add(passkeyFor(alice.id, 'pk-1'), CLI_ACTOR);
    expect(await store.jobs.get(OKTA_SYNC_QUEUE, alice.id)).not.toBeNull();
  });
});
