import type { Command } from 'commander';
import { CLI_ACTOR, iso, print, services } from '../context.ts';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('ID token signing keys');

  keys
    .command('list')
    .action(async () => {
      const svc = await services();
      await svc.signingKeys.ensure();
      print((await svc.signingKeys.list()).map((key) => ({ kid: key.kid, alg: key.alg, state: key.state, created_at: iso(key.createdAt), retires_at: iso(key.retiresAt) })));
    });

  keys
    .command('rotate')
    .description('Sign with a new key from now on; the old one stays published until its tokens expire')
    .action(async () => {
      const svc = await services();
      await svc.signingKeys.ensure();
      const result = await svc.signingKeys.rotate(CLI_ACTOR);
      print({ active_kid: result.kid, retiring: result.retiring.map((key) => ({ kid: key.kid, retires_at: iso(key.retiresAt) })) });
    });
}
