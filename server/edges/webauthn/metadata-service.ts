/**
 * Loads the imported FIDO metadata into this process: SimpleWebAuthn's MetadataService (which
 * verifyRegistrationResponse consults for packed, tpm and android-key attestations: the x5c must
 * chain to the statement's attestationRootCertificates) and the domain's authenticator catalogue
 * (names, icons, and which statements FIDO has voided). Rules:
 * - at start and whenever any process announces AUTHENTICATOR_METADATA_TOPIC (an import by the CLI
 *   on another host, a restore), every instance reloads: no restart, no network;
 * - MetadataService runs "permissive" and never downloads: an authenticator without a statement
 *   still registers (the policy decides whether attestation is required), and mdsServers is empty
 *   because this host may have no network (the BLOB comes from `latchkey metadata import`);
 * - MetadataService caches local statements without their status reports, so the statuses
 *   (REVOKED, compromises) are kept in the catalogue (attestationDistrust), which also judges
 *   passkeys enrolled before a model was voided (stillAttested).
 */
import { MetadataService, type MetadataStatement } from '@simplewebauthn/server';
import type { Store } from '../../ports/storage.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../logger.ts';
import { AUTHENTICATOR_METADATA_TOPIC, isStale } from '../../domain/authenticator-metadata.ts';
import { attestationDistrust, useMetadataStatements } from '../../domain/authenticator-catalogue.ts';

/**
 * The seam for the attestation policy (attestation-result.ts sets PasskeyRecord.attested): a
 * packed, tpm or android-key passkey counts as attested only when its attestation carried an x5c
 * chain that SimpleWebAuthn verified against this AAGUID's metadata statement AND this returns
 * true, i.e. the imported BLOB has a statement for the AAGUID whose status reports do not void it
 * (domain/authenticator-catalogue.ts attestationDistrust, fed by apply() below).
 */
export function isTrustedForAttestation(aaguid: string): boolean {
  return attestationDistrust(aaguid) === null;
}

export interface MetadataStatus {
  loaded: boolean;
  no: number | null;
  nextUpdate: string | null;
  stale: boolean;
  statements: number;
}

async function apply(store: Store): Promise<number | null> {
  const record = await store.authenticatorMetadata.get();
  const entries = record?.entries ?? [];
  const statements = entries.flatMap((entry) => (entry.metadataStatement ? [{ ...entry.metadataStatement, aaguid: entry.aaguid } as unknown as MetadataStatement] : []));
  await MetadataService.initialize({ mdsServers: [], statements, verificationMode: 'permissive' });
  useMetadataStatements(entries);
  status = record
    ? { loaded: true, no: record.no, nextUpdate: record.nextUpdate, stale: false, statements: statements.length }
    : { loaded: false, no: null, nextUpdate: null, stale: false, statements: 0 };
  return record?.no ?? null;
}

let status: MetadataStatus = { loaded: false, no: null, nextUpdate: null, stale: false, statements: 0 };

/** Loads now, then follows every import; stop() unsubscribes. */
export async function startAuthenticatorMetadata(deps: { store: Store; clock: Clock; logger: Logger }) {
  const { store, clock, logger } = deps;
  let loadedNo = await apply(store);
  let running: Promise<void> | null = null;
  let again = false;

  function reload(): void {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          // A spurious notification (a reconnect) costs one small read, not the whole BLOB.
          if ((await store.authenticatorMetadata.currentNo()) !== loadedNo) {
            loadedNo = await apply(store);
            logger.info({ no: loadedNo, statements: status.statements }, 'authenticator metadata reloaded');
          }
        } catch (error) {
          logger.warn({ err: error }, 'authenticator metadata reload failed; keeping the previous one');
        }
      } while (again);
    })().finally(() => {
      running = null;
    });
  }

  const unsubscribe = store.changes.subscribe(AUTHENTICATOR_METADATA_TOPIC, reload);
  return {
    /** What /readyz reports: which BLOB is loaded and whether FIDO has published a newer one. */
    status(): MetadataStatus {
      return { ...status, stale: status.nextUpdate !== null && isStale(status.nextUpdate, clock.now()) };
    },
    /** Resolves once a reload in progress is done (tests). */
    async settled(): Promise<void> {
      while (running) await running;
    },
    stop: unsubscribe,
  };
}

export type AuthenticatorMetadataLoader = Awaited<ReturnType<typeof startAuthenticatorMetadata>>;
