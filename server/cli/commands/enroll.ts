import type { Command } from 'commander';
import { parseDuration } from '../../config.ts';
import { AppError } from '../../domain/errors.ts';
import { CLI_ACTOR, iso, print, services } from '../context.ts';

export function registerEnrollCommand(program: Command): void {
  program
    .command('enroll <username>')
    .description('Make a one-time passkey enrollment link for a person')
    .option('--link', 'print the link (to hand over yourself)')
    .option('--ttl <duration>', 'how long the link works, e.g. 7d, 12h (default: ENROLLMENT_LINK_TTL)')
    .action(async (username: string, options: { link?: boolean; ttl?: string }) => {
      if (!options.link) throw new AppError('invalid_input', 'say how to deliver the link: --link prints it');
      const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl);
      if (ttlMs === null) throw new AppError('invalid_input', `--ttl must be a duration like 7d, 12h or 30m, got "${options.ttl}"`);
      const svc = await services();
      const identity = await svc.identities.resolve(username);
      const issued = await svc.invites.issue(identity, { actor: CLI_ACTOR, delivery: 'link', ttlMs });
      print({ username: identity.userName, url: issued.url, expires_at: iso(issued.invite.expiresAt) });
    });
}
