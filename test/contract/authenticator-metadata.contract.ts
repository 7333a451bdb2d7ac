/**
 * Storage contract: the imported FIDO MDS3 BLOB (issue 16). Registered by describeStoreContract.
 * One BLOB per store; only a higher serial number replaces it (MDS3 §3.1.6), atomically even when
 * two imports race, and what is read back is what was written (entries, status reports).
 */
import { describe, it, expect } from 'vitest';
import type { AuthenticatorMetadataRecord } from '../../server/ports/storage.ts';
import { NOW, type ContractContext } from './fixtures.ts';

export function metadataBlob(no: number, overrides: Partial<AuthenticatorMetadataRecord> = {}): AuthenticatorMetadataRecord {
  return {
    no,
    nextUpdate: '2030-01-01',
    legalHeader: 'Retrieval and use of this BLOB indicates acceptance of the terms.',
    signer: 'CN=Test MDS signer',
    importedAt: NOW,
    entries: [
      {
        aaguid: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
        metadataStatement: { aaguid: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', description: `Test key ${no}`, attestationRootCertificates: ['MIIB'] },
        statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }],
        timeOfLastStatusChange: '2024-01-01',
      },
    ],
    ...overrides,
  };
}

export function describeAuthenticatorMetadataContract(ctx: ContractContext): void {
  describe('authenticator metadata', () => {
    it('is empty at first, then holds exactly what was stored', async () => {
      expect(await ctx.store.authenticatorMetadata.get()).toBeNull();
      expect(await ctx.store.authenticatorMetadata.currentNo()).toBeNull();
      const blob = metadataBlob(7);
      expect(await ctx.store.authenticatorMetadata.replace(blob)).toEqual({ stored: true, currentNo: 7 });
      expect(await ctx.store.authenticatorMetadata.get()).toEqual(blob);
      expect(await ctx.store.authenticatorMetadata.currentNo()).toBe(7);
    });

    it('replaces it only with a higher serial number', async () => {
      await ctx.store.authenticatorMetadata.replace(metadataBlob(7));
      expect(await ctx.store.authenticatorMetadata.replace(metadataBlob(6, { signer: 'older' }))).toEqual({ stored: false, currentNo: 7 });
      expect(await ctx.store.authenticatorMetadata.replace(metadataBlob(7, { signer: 'same no' }))).toEqual({ stored: false, currentNo: 7 });
      expect((await ctx.store.authenticatorMetadata.get())?.signer).toBe('CN=Test MDS signer');
      const newer = metadataBlob(8, { nextUpdate: '2031-02-03' });
      expect(await ctx.store.authenticatorMetadata.replace(newer)).toEqual({ stored: true, currentNo: 8 });
      expect(await ctx.store.authenticatorMetadata.get()).toEqual(newer);
    });

    it('keeps the highest of two racing imports', async () => {
      const results = await Promise.all([ctx.store.authenticatorMetadata.replace(metadataBlob(12)), ctx.store.authenticatorMetadata.replace(metadataBlob(11))]);
      expect((await ctx.store.authenticatorMetadata.get())?.no).toBe(12);
      // Either order is fine, but the lower one may only have won if the higher came after it.
      expect(results[0]).toEqual({ stored: true, currentNo: 12 });
      expect(results[1].currentNo === 12 ? !results[1].stored : results[1].stored).toBe(true);
    });
  });
}
