/**
 * `latchkey backup`, `restore` and `migrate`: one portable format (server/ports/store-export.ts)
 * for all three.
 * - backup is online: the store's export reads one consistent snapshot while servers keep running.
 * - restore and migrate write into an empty store (checked first; --force clears it). Stop the
 *   servers of the target while restoring: they would otherwise write beside the restore.
 * - migrate copies the configured store into Redis in one pass and checks both counts agree;
 *   writes made to the source after its snapshot are not moved, so stop the server first.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../domain/errors.ts';
import { SCIM_TOKENS_TOPIC } from '../../domain/scim-tokens.ts';
import type { Store } from '../../ports/storage.ts';
import { EXPORT_COLLECTIONS, type ImportCounts } from '../../ports/store-export.ts';
import { readBackup, writeBackup } from '../backup-file.ts';
import { print, services } from '../context.ts';

async function isEmpty(store: Store): Promise<boolean> {
  const iterator = store.exportAll({ now: Date.now() })[Symbol.asyncIterator]();
  try {
    return (await iterator.next()).done === true;
  } finally {
    await iterator.return?.();
  }
}

function total(counts: ImportCounts): number {
  return EXPORT_COLLECTIONS.reduce((sum, collection) => sum + counts[collection], 0);
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('Write every record of the store to <file> (online, one consistent snapshot; .gz compresses)')
    .argument('<file>')
    .action(async (file: string) => {
      const svc = await services();
      const started = Date.now();
      const counts = await writeBackup(resolve(file), { createdAt: new Date(started).toISOString(), store: svc.store.kind }, svc.sealer, svc.store.exportAll({ now: started }));
      print({ file: resolve(file), store: svc.store.kind, records: total(counts), counts, ms: Date.now() - started, instance_secret_included: false });
    });

  program
    .command('restore')
    .description('Load a backup file into this (empty) store')
    .argument('<file>')
    .option('--force', 'delete everything in the target store first')
    .option('--ignore-secret', 'restore even if the backup was sealed with a different instance secret')
    .action(async (file: string, options: { force?: boolean; ignoreSecret?: boolean }) => {
      const svc = await services();
      const backup = await readBackup(resolve(file), svc.sealer, { ignoreSecret: options.ignoreSecret });
      if (!options.force && !(await isEmpty(svc.store))) {
        throw new AppError('conflict', `the target ${svc.store.kind} store is not empty; restore into a fresh DATA_DIR or REDIS_KEY_PREFIX, or pass --force to replace its contents`);
      }
      const started = Date.now();
      const counts = await svc.store.importAll(backup.items(), { replace: options.force === true });
      // A server running beside a forced restore must not keep honouring tokens it remembers.
      if (options.force) await svc.store.changes.publish(SCIM_TOKENS_TOPIC);
      print({ file: resolve(file), store: svc.store.kind, from: backup.header.store, backup_created_at: backup.header.createdAt, records: total(counts), counts, ms: Date.now() - started });
    });

  program
    .command('migrate')
    .description('Copy this store (e.g. the embedded SQLite one) into Redis; then run with STORE=redis')
    .requiredOption('--to <kind>', 'the target store: redis')
    .requiredOption('--redis-url <url>', 'redis:// or rediss:// URL of the target')
    .option('--redis-key-prefix <prefix>', 'key prefix in the target', 'latchkey:')
    .option('--force', 'delete everything under the prefix in the target first')
    .action(async (options: { to: string; redisUrl: string; redisKeyPrefix: string; force?: boolean }) => {
      if (options.to !== 'redis') throw new AppError('invalid_input', `--to must be "redis", got "${options.to}"`);
      if (!/^rediss?:\/\//.test(options.redisUrl)) throw new AppError('invalid_input', '--redis-url must start with redis:// or rediss://');
      const svc = await services();
      const { openRedisStore } = await import('../../../adapters/redis/redis-store.ts');
      const target = await openRedisStore({ url: options.redisUrl, keyPrefix: options.redisKeyPrefix });
      try {
        if (!options.force && !(await isEmpty(target))) {
          throw new AppError('conflict', `the target Redis already holds data under "${options.redisKeyPrefix}"; pick an empty prefix or pass --force to replace it`);
        }
        const started = Date.now();
        const counts = await target.importAll(svc.store.exportAll({ now: started }), { replace: options.force === true });
        // Check what landed by reading it back from the target, not by trusting the writer.
        const landed = Object.fromEntries(EXPORT_COLLECTIONS.map((collection) => [collection, 0])) as ImportCounts;
        for await (const item of target.exportAll({ now: started })) landed[item.collection]++;
        const missing = EXPORT_COLLECTIONS.filter((collection) => landed[collection] !== counts[collection]);
        if (missing.length > 0) throw new Error(`the target does not hold what was copied: ${missing.map((c) => `${c} ${landed[c]}/${counts[c]}`).join(', ')}`);
        print({ from: svc.store.kind, to: 'redis', redis_key_prefix: options.redisKeyPrefix, records: total(counts), counts, ms: Date.now() - started, next: `set STORE=redis REDIS_URL=<url> REDIS_KEY_PREFIX=${options.redisKeyPrefix} and restart` });
      } finally {
        await target.close();
      }
    });
}
