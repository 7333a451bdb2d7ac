/** How the console names where a person or group came from (the record's `source`). */
import type { RecordSource } from '../../server/ports/storage.ts';

export const SOURCE_LABELS: Record<RecordSource, string> = { scim: 'Okta (SCIM)', console: 'Console', cli: 'CLI' };

export const CREATED_BY: Record<RecordSource, string> = {
  scim: 'pushed by Okta over SCIM',
  console: 'created in the console',
  cli: 'created with the CLI',
};
