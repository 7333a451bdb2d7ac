/**
 * Can servers on the internet (Okta's) reach a URL? What can be checked from this side:
 * - HTTPS: Okta's token and SCIM calls go from Okta's servers, never through the browser;
 * - the host name resolves in public DNS-like lookup to addresses that are not loopback, private,
 *   link-local or carrier-grade NAT (RFC 1918, RFC 6598, RFC 4193, RFC 4291);
 * - TLS: a certificate that verifies for that name.
 * Whether a firewall lets Okta in cannot be seen from here; the README's tunnel section covers it.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';

const BLOCKED = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) BLOCKED.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) BLOCKED.addSubnet(address, prefix, 'ipv6');

/** Why an address cannot be reached from the internet, or null when it can. */
export function nonPublicReason(address: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
  if (!family) return `${address} is not an IP address`;
  if (!BLOCKED.check(ip, family)) return null;
  if (/^127\.|^::1$/.test(ip)) return `${address} is a loopback address`;
  return `${address} is a private or link-local address`;
}

export interface ReachabilityCheck {
  check: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const FIX = 'give Latchkey a public HTTPS PUBLIC_URL on a stable host name (README: "A real Okta org from a laptop")';

export async function checkPublicReachability(
  publicUrl: string,
  deps: { resolve?: (host: string) => Promise<string[]>; tlsProbe?: (host: string, port: number) => Promise<string | null> } = {},
): Promise<ReachabilityCheck[]> {
  const url = new URL(publicUrl);
  const checks: ReachabilityCheck[] = [];
  if (url.protocol !== 'https:') {
    checks.push({ check: 'public_url_https', status: 'fail', detail: `PUBLIC_URL is ${publicUrl}: Okta's servers call the token, JWKS and SCIM endpoints themselves and need HTTPS`, fix: FIX });
  } else {
    checks.push({ check: 'public_url_https', status: 'pass', detail: `PUBLIC_URL uses HTTPS (${url.host})` });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const resolve = deps.resolve ?? (async (name: string) => (await lookup(name, { all: true })).map((entry) => entry.address));
  let addresses: string[] = [];
  try {
    addresses = net.isIP(host) ? [host] : await resolve(host);
  } catch (error) {
    checks.push({ check: 'public_url_resolves', status: 'fail', detail: `${host} does not resolve here (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, fix: FIX });
    return checks;
  }
  const blocked = addresses.map(nonPublicReason).filter((reason): reason is string => reason !== null);
  if (blocked.length) {
    checks.push({ check: 'public_url_resolves', status: 'fail', detail: `${host} resolves to ${blocked.join('; ')}: a real Okta cannot reach it`, fix: FIX });
    return checks;
  }
  checks.push({ check: 'public_url_resolves', status: 'pass', detail: `${host} resolves to public addresses (${addresses.join(', ')})` });
  if (url.protocol === 'https:') {
    const probe = deps.tlsProbe ?? probeTls;
    const problem = await probe(host, Number(url.port || 443));
    checks.push(problem ? { check: 'public_url_tls', status: 'fail', detail: `TLS to ${url.host} failed: ${problem}`, fix: 'serve a certificate that a public CA issued for this host name' } : { check: 'public_url_tls', status: 'pass', detail: `${url.host} presents a certificate that verifies` });
  }
  return checks;
}

/** null when the handshake verifies the certificate for host; else what went wrong. */
export function probeTls(host: string, port: number, timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: true, timeout: timeoutMs });
    const done = (result: string | null) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => done(null));
    socket.once('timeout', () => done(`no TLS handshake within ${timeoutMs / 1000} s`));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ? `${error.code}: ${error.message}` : error.message));
  });
}
