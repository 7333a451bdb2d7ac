/**
 * `okta doctor`'s "can Okta reach PUBLIC_URL" link: what can be checked from Latchkey's side
 * (HTTPS, public resolution, a certificate that verifies), on real DNS and a real TLS server.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { checkPublicReachability, nonPublicReason, probeTls } from '../../server/http/public-reachability.ts';
import { oktaReachesLatchkey } from '../../server/edges/okta/okta-doctor.ts';

describe('public reachability of PUBLIC_URL', () => {
  it('classifies loopback, private, link-local, CGNAT and ULA addresses as unreachable from the internet', () => {
    for (const address of ['127.0.0.1', '127.8.9.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '100.64.1.1', '169.254.10.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      expect(nonPublicReason(address), address).not.toBeNull();
    }
    expect(nonPublicReason('127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    for (const address of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111']) expect(nonPublicReason(address), address).toBeNull();
  });

  it('fails an http, loopback PUBLIC_URL (resolved with the real resolver) and says how to fix it', async () => {
    const checks = await checkPublicReachability('http://localhost:3000');
    expect(checks.map((check) => [check.check, check.status])).toEqual([
      ['public_url_https', 'fail'],
      ['public_url_resolves', 'fail'],
    ]);
    expect(checks[1].detail).toMatch(/^localhost resolves to .*loopback address: a real Okta cannot reach it$/);
    expect(checks[1].fix).toContain('A real Okta org from a laptop');
  });

  it('fails a host name that does not resolve', async () => {
    const [, resolves] = await checkPublicReachability('https://no-such-host.invalid');
    expect(resolves).toMatchObject({ check: 'public_url_resolves', status: 'fail', detail: expect.stringContaining('no-such-host.invalid does not resolve') });
  });

  it('fails TLS against a real server whose certificate does not verify', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=latchkey.example.com'], { stdio: 'ignore' });
    const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await probeTls('127.0.0.1', port)).toMatch(/^DEPTH_ZERO_SELF_SIGNED_CERT/);
      const checks = await checkPublicReachability(`https://latchkey.example.com:${port}`, { resolve: async () => ['93.184.215.14'], tlsProbe: (_host, probePort) => probeTls('127.0.0.1', probePort) });
      expect(checks.map((check) => [check.check, check.status])).toEqual([
        ['public_url_https', 'pass'],
        ['public_url_resolves', 'pass'],
        ['public_url_tls', 'fail'],
      ]);
    } finally {
      server.close();
    }
  });

  it('doctor: a local (simulated) Okta reaches a local Latchkey; a real Okta needs every link to pass', async () => {
    expect(await oktaReachesLatchkey('http://127.0.0.1:4111', 'http://localhost:3000')).toMatchObject({ status: 'pass' });
    const real = await oktaReachesLatchkey('https://dev-48007952.okta.com', 'http://localhost:3000');
    expect(real).toMatchObject({ status: 'fail', fix: expect.stringContaining('public HTTPS PUBLIC_URL') });
    const good = await oktaReachesLatchkey('https://dev-48007952.okta.com', 'https://sso.example.com', { resolve: async () => ['93.184.215.14'], tlsProbe: async () => null });
    expect(good).toMatchObject({ status: 'pass', detail: expect.stringContaining('presents a certificate that verifies') });
  });
});
