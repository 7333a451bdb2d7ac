/**
 * The Okta connection: org URL and API token, kept in store.settings so every instance and the
 * CLI share it. The token is sealed (AES-256-GCM, key from LATCHKEY_SECRET or the development
 * key file, see bootstrap) and is opened only to make a call; it is never printed or logged.
 */
import type { Services } from '../../bootstrap.ts';
import type { OktaDirectory } from '../../ports/okta-directory.ts';
import { AppError } from '../../domain/errors.ts';
import { createOktaClient } from './okta-client.ts';

export const OKTA_CONNECTION_KEY = 'okta.connection';

interface StoredConnection {
  domain: string;
  tokenSealed: string;
  tokenOwner: { id: string; login: string } | null;
  configuredAt: number;
}

export interface OktaConnection {
  domain: string;
  tokenOwner: { id: string; login: string } | null;
  configuredAt: number;
  /** Opens the token; throws AppError when it cannot be decrypted (instance secret changed). */
  directory(options?: { timeoutMs?: number }): OktaDirectory;
}

type ConnectionDeps = Pick<Services, 'store' | 'sealer'>;

export async function loadOktaConnection(services: ConnectionDeps): Promise<OktaConnection | null> {
  const raw = await services.store.settings.get(OKTA_CONNECTION_KEY);
  if (!raw) return null;
  const stored = JSON.parse(raw) as StoredConnection;
  return {
    domain: stored.domain,
    tokenOwner: stored.tokenOwner,
    configuredAt: stored.configuredAt,
    directory(options = {}) {
      let token: string;
      try {
        token = services.sealer.open(stored.tokenSealed);
      } catch (error) {
        throw new AppError('invalid_input', 'the stored Okta API token cannot be decrypted (was LATCHKEY_SECRET changed?): run `latchkey okta configure` again', { cause: error });
      }
      return createOktaClient({ domain: stored.domain, token, timeoutMs: options.timeoutMs });
    },
  };
}

export async function saveOktaConnection(services: ConnectionDeps & Pick<Services, 'clock'>, input: { domain: string; token: string; tokenOwner: { id: string; login: string } | null }): Promise<void> {
  const stored: StoredConnection = {
    domain: input.domain,
    tokenSealed: services.sealer.seal(input.token),
    tokenOwner: input.tokenOwner,
    configuredAt: services.clock.now(),
  };
  await services.store.settings.set(OKTA_CONNECTION_KEY, JSON.stringify(stored));
}

export async function requireOktaConnection(services: ConnectionDeps): Promise<OktaConnection> {
  const connection = await loadOktaConnection(services);
  if (!connection) throw new AppError('invalid_input', 'Okta is not connected: run `latchkey okta configure --domain <org url> --token <api token>` first');
  return connection;
}
