/**
 * Who owns a record. Okta owns what it provisioned over SCIM: its next push would overwrite a
 * local edit, so the console shows such records read-only and says to change them in Okta.
 * (A record Okta pushed carries the externalId Okta sent.)
 */
import { AppError } from './errors.ts';

export function managedByOkta(record: { externalId: string | null }): boolean {
  return record.externalId !== null;
}

/** Refuses a local change to something Okta owns, naming what to do instead. */
export function requireLocallyManaged(record: { externalId: string | null }, what: string, instead: string): void {
  if (managedByOkta(record)) throw new AppError('forbidden', `${what} is provisioned by Okta over SCIM: ${instead}`);
}
