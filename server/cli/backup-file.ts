/**
 * The backup file: JSON lines (gzip when the name ends in .gz).
 *   line 1   {"format":"latchkey-backup","version":1,"createdAt":…,"store":"sqlite","sealCheck":…}
 *   then     {"c":"<collection>","r":<record>}  one per record, in export order
 *   last     {"end":true,"counts":{…}}          absent => the file is truncated
 * - sealCheck is a value sealed with the instance secret at backup time. Restore opens it first,
 *   so a backup restored under a different LATCHKEY_SECRET is refused before anything is written
 *   (its signing keys and client secrets could not be opened). The secret itself is never written.
 * - readBackup validates the whole file (header, every line, the end line and its counts) before
 *   yielding anything, so a damaged file is refused instead of half-restored.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { AppError } from '../domain/errors.ts';
import type { Sealer } from '../domain/secrets.ts';
import { EXPORT_COLLECTIONS, emptyCounts, type ExportCollection, type ExportItem, type ImportCounts } from '../ports/store-export.ts';

export const BACKUP_FORMAT = 'latchkey-backup';
export const BACKUP_VERSION = 1;
const SEAL_CHECK = 'latchkey-backup-seal-check';

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  store: 'sqlite' | 'redis';
  sealCheck: string;
}

const gzipped = (file: string) => file.endsWith('.gz');

/** Writes to file.partial and renames at the end, so a failed backup never leaves a file that looks whole. */
export async function writeBackup(file: string, header: Omit<BackupHeader, 'format' | 'version' | 'sealCheck'>, sealer: Sealer, items: AsyncIterable<ExportItem>): Promise<ImportCounts> {
  const counts = emptyCounts();
  const full: BackupHeader = { format: BACKUP_FORMAT, version: BACKUP_VERSION, ...header, sealCheck: sealer.seal(SEAL_CHECK) };
  async function* lines() {
    yield `${JSON.stringify(full)}\n`;
    for await (const item of items) {
      counts[item.collection]++;
      yield `${JSON.stringify({ c: item.collection, r: item.record })}\n`;
    }
    yield `${JSON.stringify({ end: true, counts })}\n`;
  }
  const partial = `${file}.partial`;
  try {
    const output = createWriteStream(partial, { mode: 0o600 });
    if (gzipped(file)) await pipeline(Readable.from(lines()), createGzip(), output);
    else await pipeline(Readable.from(lines()), output);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return counts;
}

function invalid(file: string, why: string): never {
  throw new AppError('invalid_input', `${file} is not a usable Latchkey backup: ${why}`);
}

async function* rawLines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file);
  const source = gzipped(file) ? input.pipe(createGunzip()) : input;
  yield* createInterface({ input: source, crlfDelay: Infinity });
}

type Line = { c: ExportCollection; r: ExportItem['record'] };

/** Reads and checks the whole file once; returns its header, counts and a reader for a second pass. */
export async function readBackup(file: string, sealer: Sealer, options: { ignoreSecret?: boolean } = {}) {
  let header: BackupHeader | null = null;
  let end: { counts: ImportCounts } | null = null;
  const counts = emptyCounts();
  let number = 0;
  try {
    for await (const text of rawLines(file)) {
      number++;
      if (text.trim() === '') continue;
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        invalid(file, `line ${number} is not JSON`);
      }
      if (number === 1) {
        const candidate = line as Partial<BackupHeader>;
        if (candidate?.format !== BACKUP_FORMAT) invalid(file, 'the first line is not a latchkey-backup header');
        if (candidate.version !== BACKUP_VERSION) invalid(file, `format version ${String(candidate.version)}, this Latchkey reads version ${BACKUP_VERSION}`);
        header = candidate as BackupHeader;
        continue;
      }
      if (end) invalid(file, `line ${number} follows the end line`);
      const record = line as Partial<Line> & { end?: boolean; counts?: ImportCounts };
      if (record.end === true) {
        end = { counts: record.counts ?? emptyCounts() };
        continue;
      }
      if (!record.c || !EXPORT_COLLECTIONS.includes(record.c) || typeof record.r !== 'object' || record.r === null) {
        invalid(file, `line ${number} is not a record of a known collection`);
      }
      counts[record.c]++;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    invalid(file, (error as Error).message);
  }
  if (!header) invalid(file, 'the file is empty');
  if (!end) invalid(file, 'the end line is missing (the file is truncated)');
  for (const collection of EXPORT_COLLECTIONS) {
    // A collection newer than the file (e.g. authenticatorMetadata) is absent from its counts: 0.
    if ((end.counts[collection] ?? 0) !== counts[collection]) invalid(file, `${collection}: the end line counts ${end.counts[collection]}, the file holds ${counts[collection]}`);
  }
  if (!options.ignoreSecret) {
    let opened = '';
    try {
      opened = sealer.open(header.sealCheck);
    } catch {
      // A different key fails the GCM tag check.
    }
    if (opened !== SEAL_CHECK) {
      throw new AppError(
        'invalid_input',
        'this backup was sealed with a different instance secret: set LATCHKEY_SECRET (or DATA_DIR/instance.key) to the one of the backed-up install, or pass --ignore-secret to restore it anyway (its signing keys, client secrets and Okta token will not open)',
      );
    }
  }
  const found = header;
  async function* items(): AsyncGenerator<ExportItem> {
    let skip = true;
    for await (const text of rawLines(file)) {
      if (skip) {
        skip = false;
        continue;
      }
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as Line & { end?: boolean };
      if (line.end) return;
      yield { collection: line.c, record: line.r } as ExportItem;
    }
  }
  return { header: found, counts, items };
}
