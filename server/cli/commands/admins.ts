/**
 * `admins add|list|remove`: who may use the console. `admins add` is how a fresh install gets
 * its first admin: it creates the identity if needed, grants the role and prints an enrollment
 * link; the admin opens it, creates a passkey, then signs in at {PUBLIC_URL}/admin.
 */
import type { Command } from 'commander';
import { createAdminService } from '../../domain/admins.ts';
import { parseDuration } from '../../config.ts';
import { AppError } from '../../domain/errors.ts';
import { CLI_ACTOR, iso, knownPublicUrl, print, services } from '../context.ts';
import { describeIdentity } from './identities.ts';

async function adminService() {
  const svc = await services();
  return { svc, admins: createAdminService({ store: svc.store, identities: svc.identities, now: () => svc.clock.now() }) };
}

export function registerAdminCommands(program: Command): void {
  const admins = program.command('admins').description('Administrators of the console at /admin');

  admins
    .command('add <username>')
    .description('Grant the admin role (creating the identity if needed) and print an enrollment link')
    .option('--email <email>', 'email of a new identity (defaults to the username when it is an address)')
    .option('--ttl <duration>', 'how long the enrollment link works, e.g. 24h', '24h')
    .option('--no-link', 'grant the role only, without an enrollment link')
    .action(async (username: string, options: { email?: string; ttl: string; link: boolean }) => {
      const ttlMs = parseDuration(options.ttl);
      if (ttlMs === null) throw new AppError('invalid_input', `--ttl must be a duration like 24h or 7d, got "${options.ttl}"`);
      const { svc, admins: service } = await adminService();
      const consoleUrl = `${await knownPublicUrl()}/admin`;
      const { identity, created } = await service.grant({ userName: username, email: options.email }, CLI_ACTOR);
      const link = options.link ? await svc.invites.issue(identity, { actor: CLI_ACTOR, delivery: 'link', ttlMs }) : null;
      print({
        ...describeIdentity(identity),
        created,
        ...(link ? { enrollment_link: link.url, link_expires_at: iso(link.invite.expiresAt) } : {}),
        console_url: consoleUrl,
        next: link ? 'open the enrollment link to create a passkey, then sign in at console_url' : 'sign in at console_url',
      });
    });

  admins
    .command('list')
    .description('List admins and whether each has a passkey')
    .action(async () => {
      const { admins: service } = await adminService();
      const list = await service.list();
      const readiness = await service.readiness();
      print({ items: list.map((admin) => ({ ...describeIdentity(admin), passkeys: admin.passkeys })), ...(readiness.warning ? { warning: readiness.warning } : {}) });
    });

  admins
    .command('remove <username>')
    .description('Take the admin role away; console sessions end at their next request')
    .action(async (username: string) => {
      const { admins: service } = await adminService();
      print(describeIdentity(await service.revoke(username, CLI_ACTOR)));
    });
}
