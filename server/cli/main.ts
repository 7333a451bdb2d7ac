/**
 * `latchkey` — the operator CLI. Every command prints JSON on success; on failure it prints one
 * line saying why and exits non-zero (1 for refused input, 78 for bad configuration).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.ts';
import { isAppError } from '../domain/errors.ts';
import { closeServices } from './context.ts';
import { registerAdminCommands } from './commands/admins.ts';
import { registerAppCommands } from './commands/apps.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerIdentityCommands } from './commands/identities.ts';
import { registerGroupCommands } from './commands/groups.ts';
import { registerEnrollCommand } from './commands/enroll.ts';
import { registerKeyCommands } from './commands/keys.ts';
import { registerMetadataCommands } from './commands/metadata.ts';
import { registerOktaCommands } from './commands/okta.ts';
import { registerScimTokenCommands } from './commands/scim-tokens.ts';
import { registerPolicyCommands } from './commands/policy.ts';

const program = new Command('latchkey')
  .description('Operate a Latchkey passkey identity provider')
  .exitOverride()
  // Commander's own error text is replaced by our one-line reason below.
  .configureOutput({ writeErr: () => undefined })
  .showHelpAfterError(false);

registerAdminCommands(program);
registerAppCommands(program);
registerBackupCommands(program);
registerIdentityCommands(program);
registerGroupCommands(program);
registerEnrollCommand(program);
registerKeyCommands(program);
registerMetadataCommands(program);
registerOktaCommands(program);
registerScimTokenCommands(program);
registerPolicyCommands(program);

function fail(message: string, code = 1): never {
  process.stderr.write(`latchkey: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

try {
  await program.parseAsync(process.argv);
  await closeServices();
} catch (error) {
  await closeServices().catch(() => undefined);
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) process.exit(0);
    fail(error.message.replace(/^error: /, ''), 2);
  }
  if (error instanceof ConfigError) fail(error.message, 78);
  if (isAppError(error)) fail(error.message);
  fail((error as Error).message || String(error));
}
