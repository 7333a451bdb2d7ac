/**
 * Turns SQLite constraint failures into the port's StoreError.
 * - The unique indexes are the real guard (two processes racing on one name cannot both insert),
 *   so a conflict is detected by the failed write, never by a read beforehand.
 * - SQLite names the violated column ("UNIQUE constraint failed: identities.user_name_key"); each
 *   repository maps its columns to the port's field names.
 * - A foreign-key failure means the owning record is gone: 'not_found'.
 */
import { StoreError } from '../../server/ports/storage.ts';

export type ColumnFields = Record<string, string>;

export function withConstraints<T>(fields: ColumnFields, write: () => T): T {
  try {
    return write();
  } catch (error) {
    throw translateConstraintError(error, fields);
  }
}

export function translateConstraintError(error: unknown, fields: ColumnFields): unknown {
  if (!(error instanceof Error) || !('code' in error)) return error;
  const code = (error as { code: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const column = /constraint failed: \w+\.(\w+)/.exec(error.message)?.[1] ?? 'id';
    const field = fields[column] ?? column;
    return new StoreError('conflict', `${field} is already taken`, field);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new StoreError('not_found', 'the record this one belongs to does not exist');
  }
  return error;
}

export const toFlag = (value: boolean): number => (value ? 1 : 0);
