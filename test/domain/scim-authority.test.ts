/**
 * The SCIM authority rules without HTTP (scim-authority.ts, through the identity service): what a
 * SCIM token may do to people holding a role, and that each such change reaches the listeners
 * that tell the other admins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../server/ports/storage.ts';
import { createAuditLog } from '../../server/domain/audit.ts';
import { createIdentityService, type IdentityService } from '../../server/domain/identities.ts';
import { privilegedScimChangeNotice, type PrivilegedScimChange } from '../../server/domain/scim-authority.ts';
import { CLI_ACTOR, scimActor } from '../../server/domain/actor.ts';
import { ADMIN_ROLE } from '../../server/domain/apps.ts';

describe('SCIM authority over privileged identities', () => {
  let dir: string;
  let store: Store;
  let identities: IdentityService;
  const told: PrivilegedScimChange[] = [];
  const scim = scimActor('tok-1');

  async function admin(userName: string, withPasskey: boolean) {
    const identity = await identities.create({ userName, email: userName, roles: [ADMIN_ROLE] }, CLI_ACTOR);
    if (withPasskey) {
      await store.passkeys.insert({ id: `cred-${userName}`, identityId: identity.id, publicKey: 'pk', counter: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000', deviceType: 'singleDevice', backedUp: false, attestationFormat: 'none', attested: false, name: 'key', createdAt: 1, lastUsedAt: null });
    }
    return identity;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-scim-authority-'));
    store = await openSqliteStore({ dataDir: dir });
    const clock = { now: () => Date.UTC(2026, 0, 1) };
    told.length = 0;
    identities = createIdentityService({ store, clock, audit: createAuditLog(store.audit, clock), onPrivilegedScimChange: [async (change) => void told.push(change)] });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses email and userName changes of an admin by SCIM only', async () => {
    const root = await admin('root@acme.test', true);
    await expect(identities.update(root.id, { email: 'x@evil.test' }, scim)).rejects.toMatchObject({ code: 'forbidden', field: 'email' });
    await expect(identities.update(root.id, { userName: 'x@evil.test' }, scim)).rejects.toMatchObject({ code: 'forbidden', field: 'userName' });
    // Case-only changes are the same name and address; the CLI may change either.
    await identities.update(root.id, { userName: 'ROOT@acme.test', email: 'Root@Acme.test' }, scim);
    await identities.update(root.id, { email: 'root@new.test' }, CLI_ACTOR);
    expect(told.map((change) => change.action)).toEqual(['update']);
  });

  it('keeps the last admin who can sign in, but lets one without a passkey or with a peer go', async () => {
    const root = await admin('root@acme.test', true);
    const keyless = await admin('keyless@acme.test', false);
    await expect(identities.update(root.id, { active: false }, scim)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(identities.remove(root.id, scim)).rejects.toMatchObject({ code: 'forbidden' });
    await identities.update(keyless.id, { active: false }, scim);
    const peer = await admin('peer@acme.test', true);
    await identities.update(root.id, { active: false }, scim);
    await expect(identities.remove(peer.id, scim)).rejects.toMatchObject({ code: 'forbidden' });
    expect(told.map((change) => [change.identity.userName, change.action])).toEqual([
      ['keyless@acme.test', 'deactivate'],
      ['root@acme.test', 'deactivate'],
    ]);
    const notice = privilegedScimChangeNotice(told[1]);
    expect(notice.subject).toBe('SCIM deactivated root@acme.test, who holds a Latchkey role');
    expect(notice.summary).toContain('latchkey scim-tokens revoke tok-1');
  });
});
