/**
 * The one domain error. Callers switch on `code`, never on messages; each edge translates it once
 * at its boundary (OAuth error, SCIM error JSON, readable HTML page, CLI one-liner).
 */
import { StoreError } from '../ports/storage.ts';

export type AppErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'stale'
  | 'forbidden'
  | 'unauthenticated'
  | 'inactive'
  | 'not_assigned'
  | 'link_expired'
  | 'link_spent'
  | 'link_revoked'
  | 'link_invalid'
  | 'challenge_invalid'
  | 'passkey_invalid'
  | 'counter_regression'
  /** A passkey the authenticator policy does not accept (synced, model, attestation); the message says what is. */
  | 'passkey_not_allowed'
  | 'upstream'
  /** A request body over the endpoint's size limit (HTTP 413). */
  | 'too_large';

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Which input or attribute the error is about, when there is one (e.g. "userName"). */
  readonly field?: string;
  constructor(code: AppErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.field = options.field;
  }
}

export const isAppError = (error: unknown, code?: AppErrorCode): error is AppError =>
  error instanceof AppError && (code === undefined || error.code === code);

/** Storage conflicts, stale writes and misses, said in the domain's words (`what`: "an identity"). */
export function translateStoreError(error: unknown, what: string): never {
  if (error instanceof StoreError) {
    if (error.code === 'conflict') {
      throw new AppError('conflict', `${what} with that ${error.field ?? 'value'} already exists`, { field: error.field, cause: error });
    }
    if (error.code === 'stale') throw new AppError('stale', `${what} was changed by someone else; read it again and retry`, { cause: error });
    if (error.code === 'not_found') throw new AppError('not_found', `${what} not found`, { cause: error });
  }
  throw error;
}
