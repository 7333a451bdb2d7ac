/**
 * Who owns a record. Okta owns what it provisioned over SCIM: its next push would overwrite a
 * local edit, so the console shows such records read-only and says to change them in Okta.
 * (Every identity and group records its source: `scim` when Okta created it.)
 */
import { AppError } from './errors.ts';

export function managedByOkta(record: { source: string }): boolean {
  return record.source === 'scim';
}

/** Refuses a local change to something Okta owns, naming what to do instead. */
export function requireLocallyManaged(record: { source: string }, what: string, instead: string): void {
  if (managedByOkta(record)) throw new AppError('forbidden', `${what} is provisioned by Okta over SCIM: ${instead}`);
}
