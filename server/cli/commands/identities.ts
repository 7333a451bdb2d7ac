import type { Command } from 'commander';
import type { EnrollmentStatus, IdentityRecord } from '../../ports/storage.ts';
import { AppError } from '../../domain/errors.ts';
import { CLI_ACTOR, iso, print, services, toInt } from '../context.ts';

export function describeIdentity(identity: IdentityRecord, extra: Record<string, unknown> = {}) {
  return {
    id: identity.id,
    username: identity.userName,
    email: identity.email,
    given_name: identity.givenName,
    family_name: identity.familyName,
    display_name: identity.displayName,
    external_id: identity.externalId,
    active: identity.active,
    roles: identity.roles,
    created_at: iso(identity.createdAt),
    updated_at: iso(identity.updatedAt),
    ...extra,
  };
}

const statuses: EnrollmentStatus[] = ['unenrolled', 'pending', 'enrolled'];

export function registerIdentityCommands(program: Command): void {
  const identities = program.command('identities').description('People who sign in with passkeys');

  identities
    .command('create')
    .description('Create an identity (normally Okta creates them over SCIM)')
    .requiredOption('--username <username>', 'unique, case-insensitive; usually the Okta login')
    .requiredOption('--email <email>', 'email address (the claim Okta links by)')
    .option('--given-name <name>')
    .option('--family-name <name>')
    .option('--display-name <name>')
    .action(async (options: { username: string; email: string; givenName?: string; familyName?: string; displayName?: string }) => {
      const svc = await services();
      const identity = await svc.identities.create(
        { userName: options.username, email: options.email, givenName: options.givenName, familyName: options.familyName, displayName: options.displayName },
        CLI_ACTOR,
      );
      print(describeIdentity(identity, { enrollment_status: 'unenrolled' }));
    });

  identities
    .command('list')
    .description('List identities with their enrollment status')
    .option('--status <status>', `one of ${statuses.join(', ')}`)
    .option('--group <name>', 'only members of this group')
    .option('--search <text>', 'matches username, email or name')
    .option('--limit <n>', 'page size', toInt('--limit'), 100)
    .option('--offset <n>', 'skip this many', toInt('--offset'), 0)
    .action(async (options: { status?: string; group?: string; search?: string; limit: number; offset: number }) => {
      if (options.status && !statuses.includes(options.status as EnrollmentStatus)) {
        throw new AppError('invalid_input', `--status must be one of ${statuses.join(', ')}, got "${options.status}"`);
      }
      const svc = await services();
      const groupId = options.group ? (await svc.groups.resolve(options.group)).id : undefined;
      const page = await svc.identities.list({ status: options.status as EnrollmentStatus | undefined, groupId, search: options.search, offset: options.offset, limit: Math.min(options.limit, 1000) });
      print({ total: page.total, offset: options.offset, limit: options.limit, items: page.items.map((identity) => describeIdentity(identity, { enrollment_status: identity.enrollmentStatus })) });
    });

  identities
    .command('show <username>')
    .description('Show an identity with its groups and passkeys')
    .action(async (username: string) => {
      const svc = await services();
      const identity = await svc.identities.resolve(username);
      const groupIds = await svc.groups.groupIdsOf(identity.id);
      const groups = await Promise.all(groupIds.map(async (id) => (await svc.store.groups.get(id))?.displayName));
      const passkeys = (await svc.passkeys.listFor(identity.id)).map((passkey) => ({ id: passkey.id, name: passkey.name, device_type: passkey.deviceType, created_at: iso(passkey.createdAt), last_used_at: iso(passkey.lastUsedAt) }));
      print(describeIdentity(identity, { enrollment_status: await svc.identities.status(identity.id), groups, passkeys }));
    });

  for (const [name, active] of [['activate', true], ['deactivate', false]] as const) {
    identities
      .command(`${name} <username>`)
      .description(active ? 'Allow sign-in again' : 'Block sign-in and end every session at once')
      .action(async (username: string) => {
        const svc = await services();
        const identity = await svc.identities.resolve(username);
        print(describeIdentity(await svc.identities.update(identity.id, { active }, CLI_ACTOR)));
      });
  }

  identities
    .command('delete <username>')
    .description('Delete an identity with its passkeys, sessions and memberships')
    .action(async (username: string) => {
      const svc = await services();
      const identity = await svc.identities.resolve(username);
      await svc.identities.remove(identity.id, CLI_ACTOR);
      print({ deleted: identity.id, username: identity.userName });
    });

  const passkeys = program.command('passkeys').description("An identity's passkeys");
  passkeys
    .command('list <username>')
    .action(async (username: string) => {
      const svc = await services();
      const identity = await svc.identities.resolve(username);
      print((await svc.passkeys.listFor(identity.id)).map((passkey) => ({ id: passkey.id, name: passkey.name, aaguid: passkey.aaguid, device_type: passkey.deviceType, backed_up: passkey.backedUp, created_at: iso(passkey.createdAt), last_used_at: iso(passkey.lastUsedAt) })));
    });
  passkeys
    .command('revoke <passkey_id>')
    .description('Remove a passkey; it can no longer sign in')
    .action(async (passkeyId: string) => {
      const svc = await services();
      const passkey = await svc.passkeys.revoke(passkeyId, CLI_ACTOR);
      print({ revoked: passkey.id, identity_id: passkey.identityId });
    });
}
