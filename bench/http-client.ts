/**
 * A lean keep-alive HTTP client for load generation: node:http with a pooled agent costs the
 * generator far less CPU per request than fetch, leaving more of this 2-core machine to the
 * server under test.
 */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface LeanResponse {
  status: number;
  text: string;
  location: string | null;
  setCookie: string[];
}

export function request(method: string, url: string, headers: Record<string, string>, body?: string): Promise<LeanResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request(
      { method, hostname: target.hostname === 'localhost' ? '127.0.0.1' : target.hostname, port: target.port, path: `${target.pathname}${target.search}`, headers: { ...headers, host: target.host, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            location: res.headers.location ?? null,
            setCookie: res.headers['set-cookie'] ?? [],
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** A browser's cookie handling and same-origin redirects, enough to drive a sign-in. */
export class LeanBrowser {
  private readonly cookies = new Map<string, string>();

  private remember(response: LeanResponse): void {
    for (const header of response.setCookie) {
      const [pair] = header.split(';');
      const index = pair.indexOf('=');
      const value = pair.slice(index + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(pair.slice(0, index).trim());
      else this.cookies.set(pair.slice(0, index).trim(), value);
    }
  }

  async send(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<LeanResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await request(method, url, { ...headers, ...(cookie ? { cookie } : {}) }, body);
    this.remember(response);
    return response;
  }

  /** GETs url and follows redirects while they stay on `origin`; returns the last response and URL. */
  async follow(url: string, origin: string): Promise<{ response: LeanResponse; url: string }> {
    let current = url;
    for (let hops = 0; hops < 10; hops++) {
      const response = await this.send('GET', current);
      if (response.status < 300 || response.status >= 400 || !response.location) return { response, url: current };
      const next = new URL(response.location, current).href;
      if (!next.startsWith(origin)) return { response, url: next };
      current = next;
    }
    throw new Error('too many redirects');
  }
}
