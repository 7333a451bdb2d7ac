/**
 * Verifies a FIDO Metadata Service BLOB (FIDO Metadata Service v3.0 §3.2 "Metadata BLOB
 * processing rules") read from a file the operator downloaded. Rules:
 * - it is a JWS in compact serialization whose header carries an x5c chain (§3.1.7);
 * - the chain must lead to the configured trust anchor (FIDO_MDS_ROOT_CERT, default the FIDO
 *   root) and the JWS signature must verify with the chain's leaf key: SimpleWebAuthn's
 *   verifyMDSBlob does both (it also checks certificate validity periods, and a certificate's CRL
 *   when it names one and the CRL can be fetched; this host may have no network, so an
 *   unreachable CRL does not fail the import);
 * - the payload must have the §3.1.6 shape (no, nextUpdate, entries); only FIDO2 entries (those
 *   with an AAGUID) are kept, U2F and UAF entries are dropped.
 * Every failure is one AppError('invalid_input') naming what was wrong, never a stack.
 */
import { X509Certificate } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { SettingsService } from '@simplewebauthn/server';
import { verifyMDSBlob } from '@simplewebauthn/server/helpers';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import type { VerifiedMetadataBlob } from '../../domain/authenticator-metadata.ts';

const payloadSchema = z.object({
  legalHeader: z.string().default(''),
  no: z.number().int().nonnegative(),
  nextUpdate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'nextUpdate must be a YYYY-MM-DD date'),
  entries: z.array(
    z.looseObject({
      aaguid: z.string().optional(),
      metadataStatement: z.record(z.string(), z.unknown()).optional(),
      statusReports: z.array(z.looseObject({ status: z.string(), effectiveDate: z.string().optional() })).default([]),
      timeOfLastStatusChange: z.string().optional(),
    }),
  ),
});

const invalid = (message: string, cause?: unknown): never => {
  throw new AppError('invalid_input', message, { cause });
};

function pemOf(der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Checks a BLOB against `rootPem`; returns what may be stored. */
export async function verifyMetadataBlob(jwt: string, rootPem: string): Promise<VerifiedMetadataBlob> {
  const compact = jwt.trim();
  let x5c: unknown;
  try {
    x5c = decodeProtectedHeader(compact).x5c;
  } catch (error) {
    invalid(`not a FIDO Metadata Service BLOB: expected a JWS (three base64url parts separated by dots): ${(error as Error).message}`, error);
  }
  if (compact.split('.').length !== 3) invalid('not a FIDO Metadata Service BLOB: expected a JWS in compact serialization (three parts)');
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((cert) => typeof cert === 'string')) {
    invalid('not a FIDO Metadata Service BLOB: its JWS header has no x5c certificate chain');
  }
  // The trust anchor verifyMDSBlob checks the chain against (SimpleWebAuthn keeps it per format).
  SettingsService.setRootCertificates({ identifier: 'mds', certificates: [rootPem] });
  let verified: Awaited<ReturnType<typeof verifyMDSBlob>>;
  try {
    verified = await verifyMDSBlob(compact);
  } catch (error) {
    const message = (error as Error).message;
    if (/certificate path/i.test(message)) {
      const cause = (error as { cause?: Error }).cause?.message ?? '';
      invalid(`refused: the BLOB's certificate chain does not lead to the trusted FIDO root (FIDO_MDS_ROOT_CERT)${cause ? `: ${cause.split('\n')[0]}` : ''}`, error);
    }
    if (/signature/i.test(message)) invalid('refused: the BLOB signature does not verify (the file was altered or is corrupt)', error);
    invalid(`not a FIDO Metadata Service BLOB: ${message}`, error);
  }
  const parsed = payloadSchema.safeParse(verified!.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    invalid(`not a FIDO Metadata Service BLOB: payload ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const payload = parsed.data!;
  return {
    no: payload.no,
    nextUpdate: payload.nextUpdate,
    legalHeader: payload.legalHeader,
    signer: new X509Certificate(pemOf((x5c as string[])[0])).subject.replace(/\n/g, ', '),
    entries: payload.entries
      .filter((entry): entry is typeof entry & { aaguid: string } => typeof entry.aaguid === 'string')
      .map((entry) => ({
        aaguid: entry.aaguid.toLowerCase(),
        metadataStatement: entry.metadataStatement ?? null,
        statusReports: entry.statusReports,
        timeOfLastStatusChange: entry.timeOfLastStatusChange ?? null,
      })),
  };
}
