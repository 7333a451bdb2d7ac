/**
 * `latchkey metadata import <blob.jwt>` / `metadata show`: the FIDO Metadata Service BLOB, read
 * from a file (this host may have no network; README "Authenticator metadata" says how to get it).
 * Import verifies it against FIDO_MDS_ROOT_CERT (default the FIDO root), refuses an older BLOB
 * than the stored one, and every running instance loads it within seconds.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CLI_ACTOR, iso, print, services } from '../context.ts';
import { AppError } from '../../domain/errors.ts';
import type { MetadataSummary } from '../../domain/authenticator-metadata.ts';

/** A BLOB is a few MB; anything far larger is not one. */
const MAX_BLOB_BYTES = 64 * 1024 * 1024;

const summaryJson = (summary: MetadataSummary) => ({
  statements: summary.statements,
  no: summary.no,
  next_update: summary.nextUpdate,
  issuer: summary.signer,
  imported_at: iso(summary.importedAt),
  stale: summary.stale,
  ...(summary.stale ? { warning: `FIDO published a newer BLOB on ${summary.nextUpdate}; download and import it (the stored statements still apply meanwhile)` } : {}),
});

export function registerMetadataCommands(program: Command): void {
  const metadata = program.command('metadata').description('FIDO Metadata Service statements used to verify attestation and name authenticators');

  metadata
    .command('import <file>')
    .description('Verify a FIDO MDS3 BLOB (a .jwt file) against the FIDO root and load its statements on every instance')
    .action(async (file: string) => {
      let text: string;
      try {
        const bytes = await readFile(file);
        if (bytes.length > MAX_BLOB_BYTES) throw new AppError('invalid_input', `${file} is ${bytes.length} bytes, larger than any FIDO metadata BLOB`);
        text = bytes.toString('utf8');
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError('invalid_input', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const svc = await services();
      // Loaded here, not at start: SimpleWebAuthn's X.509 stack is heavy and only this command needs it.
      const { verifyMetadataBlob } = await import('../../edges/webauthn/metadata-blob.ts');
      const verified = await verifyMetadataBlob(text, svc.config.fidoMdsRootPem);
      const result = await svc.authenticatorMetadata.import(verified, CLI_ACTOR);
      print({ ...summaryJson(result), changed: result.changed, previous_no: result.previousNo });
    });

  metadata
    .command('show')
    .description('The imported BLOB: its number, when FIDO publishes the next one, how many statements')
    .action(async () => {
      const svc = await services();
      const summary = await svc.authenticatorMetadata.summary();
      print(summary ? summaryJson(summary) : { statements: 0, no: null, next_update: null, issuer: null, imported_at: null, stale: false, hint: 'no BLOB imported yet: latchkey metadata import <blob.jwt>' });
    });
}
