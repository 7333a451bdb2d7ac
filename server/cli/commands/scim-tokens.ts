/**
 * `scim-tokens`: the guide's "Create API token for inbound SCIM" (Stage II, Bearer tokens).
 * - `create --name N [--expires-at ISO | --no-expiry]` prints the token once, with the SCIM base
 *   URL to paste into Okta next to it; only its hash is kept;
 * - `list` shows name, state, created, expires and last used (never the token), and warns on
 *   stderr about active tokens close to expiry, so a new one can be rolled in first;
 * - `revoke <id>` stops a token at once.
 */
import type { Command } from 'commander';
import { AppError } from '../../domain/errors.ts';
import type { ScimTokenInfo } from '../../domain/scim-tokens.ts';
import { scimBaseUrl } from '../../edges/scim/scim-schemas.ts';
import { CLI_ACTOR, iso, knownPublicUrl, print, services } from '../context.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const WARN_BEFORE_DAYS = 14;

function expiryOf(options: { expiresAt?: string; expiry: boolean }): number | null | undefined {
  if (options.expiresAt !== undefined && !options.expiry) throw new AppError('invalid_input', 'choose one: --expires-at DATE or --no-expiry');
  if (!options.expiry) return null;
  if (options.expiresAt === undefined) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}/.test(options.expiresAt) ? Date.parse(options.expiresAt) : Number.NaN;
  if (Number.isNaN(at)) throw new AppError('invalid_input', `--expires-at must be an ISO 8601 date such as 2027-06-01T00:00:00Z, got "${options.expiresAt}"`);
  return at;
}

const describeToken = (token: ScimTokenInfo, now: number) => ({
  id: token.id,
  name: token.name,
  state: token.state,
  created_at: iso(token.createdAt),
  expires_at: iso(token.expiresAt),
  expires_in_days: token.expiresAt === null || token.state !== 'active' ? null : Math.floor((token.expiresAt - now) / DAY_MS),
  last_used_at: iso(token.lastUsedAt),
  revoked_at: iso(token.revokedAt),
});

export function registerScimTokenCommands(program: Command): void {
  const tokens = program.command('scim-tokens').description('Bearer tokens Okta provisions users and groups with (SCIM 2.0)');

  tokens
    .command('create')
    .description('Create a token; it is printed once, with the SCIM base URL to paste into Okta')
    .requiredOption('--name <name>', 'what the token is for, e.g. "Okta SCIM Token"')
    .option('--expires-at <date>', 'ISO 8601 expiry (default: 90 days from now)')
    .option('--no-expiry', 'never expires (not recommended)')
    .action(async (options: { name: string; expiresAt?: string; expiry: boolean }) => {
      const svc = await services();
      const { token, info } = await svc.scimTokens.create({ name: options.name, expiresAt: expiryOf(options) }, CLI_ACTOR);
      print({ token, scim_url: scimBaseUrl(await knownPublicUrl()), expires_at: iso(info.expiresAt), id: info.id });
    });

  tokens
    .command('list')
    .description('Every token with its expiry and last use (never the token itself)')
    .action(async () => {
      const svc = await services();
      const now = svc.clock.now();
      const listed = (await svc.scimTokens.list()).map((token) => describeToken(token, now));
      for (const token of listed) {
        if (token.expires_in_days !== null && token.expires_in_days < WARN_BEFORE_DAYS) {
          process.stderr.write(`latchkey: SCIM token "${token.name}" (${token.id}) expires ${token.expires_at}: create a new one and paste it into Okta before then\n`);
        }
      }
      print(listed);
    });

  tokens
    .command('revoke <id>')
    .description('Stop a token at once')
    .action(async (id: string) => {
      const svc = await services();
      const token = await svc.scimTokens.revoke(id, CLI_ACTOR);
      print({ revoked: token.id, name: token.name, revoked_at: iso(token.revokedAt) });
    });
}
