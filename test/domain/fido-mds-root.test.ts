/**
 * The bundled FIDO MDS trust anchor is the real "GlobalSign Root CA - R3" (its published SHA-256
 * fingerprint), and FIDO_MDS_ROOT_CERT replaces it only with a readable PEM CA certificate,
 * checked at start-up with the other configuration problems.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIDO_MDS_ROOT_PEM, FIDO_MDS_ROOT_SHA256 } from '../../server/domain/fido-mds-root.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { createCa, issue } from '../support/test-certificates.ts';

describe('FIDO MDS root', () => {
  it('is GlobalSign Root CA - R3 with its published fingerprint', () => {
    const root = new X509Certificate(FIDO_MDS_ROOT_PEM);
    expect(root.fingerprint256).toBe('CB:B5:22:D7:B7:F1:27:AD:6A:01:13:86:5B:DF:1C:D4:10:2E:7D:07:59:AF:63:5A:7C:F4:72:0D:C9:63:C5:3B');
    expect(root.fingerprint256).toBe(FIDO_MDS_ROOT_SHA256);
    expect(root.subject).toContain('OU=GlobalSign Root CA - R3');
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(loadConfig({}).fidoMdsRootPem).toBe(FIDO_MDS_ROOT_PEM);
  });

  it('FIDO_MDS_ROOT_CERT must name a readable PEM CA certificate', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-mds-root-'));
    const ca = await createCa('CN=Test Root');
    const files = { ca: path.join(dir, 'ca.pem'), leaf: path.join(dir, 'leaf.pem'), junk: path.join(dir, 'junk.pem') };
    writeFileSync(files.ca, ca.pem);
    writeFileSync(files.leaf, (await issue(ca, 'CN=Leaf')).pem);
    writeFileSync(files.junk, 'not a certificate');
    expect(loadConfig({ FIDO_MDS_ROOT_CERT: files.ca }).fidoMdsRootPem).toBe(ca.pem);
    const problems = (file: string) => {
      try {
        loadConfig({ FIDO_MDS_ROOT_CERT: file });
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problems(path.join(dir, 'missing.pem'))).toEqual([expect.stringMatching(/^FIDO_MDS_ROOT_CERT: cannot read ".*missing\.pem": ENOENT/)]);
    expect(problems(files.leaf)).toEqual([expect.stringMatching(/^FIDO_MDS_ROOT_CERT: ".*leaf\.pem" is not a PEM CA certificate \(it is not a CA certificate\)/)]);
    expect(problems(files.junk)).toEqual([expect.stringMatching(/^FIDO_MDS_ROOT_CERT: ".*junk\.pem" is not a PEM CA certificate/)]);
  });
});
