import type { Command } from 'commander';
import { CLI_ACTOR, iso, print, services } from '../context.ts';
import type { KeyView } from '../../domain/signing-keys.ts';

const keyJson = (key: KeyView) => ({
  kid: key.kid,
  alg: key.alg,
  state: key.status,
  created_at: iso(key.createdAt),
  activates_at: iso(key.activatesAt),
  signs_until: iso(key.signsUntil),
  published_until: iso(key.publishedUntil),
  revoked_at: iso(key.revokedAt),
});

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('ID token signing keys (states: next, current, previous, retired, revoked)');

  keys
    .command('list')
    .description('Every key with its state, when it signs and until when it is published')
    .action(async () => {
      const svc = await services();
      await svc.signingKeys.ensure();
      print((await svc.signingKeys.list()).map(keyJson));
    });

  keys
    .command('rotate')
    .description('Publish a new key now; it signs after KEY_ACTIVATION_DELAY, the old one stays published until its tokens expire')
    .option('--now', 'emergency: sign with the waiting next key (or a new one) at once; relying parties with a cached JWKS may fail to verify for a while')
    .action(async (options: { now?: boolean }) => {
      const svc = await services();
      await svc.signingKeys.ensure();
      const result = await svc.signingKeys.rotate({ immediately: Boolean(options.now) }, CLI_ACTOR);
      print({
        kid: result.kid,
        state: options.now ? 'current' : 'next',
        activates_at: iso(result.activatesAt),
        replaces: result.replaces,
        ...(result.risk ? { risk: result.risk } : {}),
        keys: (await svc.signingKeys.list()).map(keyJson),
      });
    });

  keys
    .command('revoke <kid>')
    .description('Emergency: remove a (compromised) key from /jwks and refuse the tokens it signed, on every instance at once')
    .action(async (kid: string) => {
      const svc = await services();
      const result = await svc.signingKeys.revoke(kid, CLI_ACTOR);
      print({
        kid: result.kid,
        revoked_at: iso(result.revokedAt),
        already_revoked: result.alreadyRevoked,
        replacement: result.replacement ? { kid: result.replacement.kid, activates_at: iso(result.replacement.activatesAt) } : null,
        ...(result.risk ? { risk: result.risk } : {}),
        keys: (await svc.signingKeys.list()).map(keyJson),
      });
    });
}
