/** A round-robin HTTP balancer for tests: request n goes to backend n mod (number of backends). */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dropRedisPrefix, startTestServer, type TestServer } from './test-server.ts';

/** Sends request n to backend n mod 2. */
export async function startRoundRobin(): Promise<{ server: Server; url: string; backends: string[]; counts: number[] }> {
  const state = { backends: [] as string[], counts: [0, 0], next: 0 };
  const server = http.createServer((req, res) => {
    const index = state.next++ % state.backends.length;
    state.counts[index]++;
    const target = new URL(state.backends[index]);
    const upstream = http.request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://localhost:${(server.address() as AddressInfo).port}`, backends: state.backends, counts: state.counts };
}


export interface TwoInstances {
  balancer: Awaited<ReturnType<typeof startRoundRobin>>;
  a: TestServer;
  b: TestServer;
  close(): Promise<void>;
}

/**
 * Production shape: two identical instances on one Redis key prefix (one shared instance secret)
 * behind the round-robin balancer, whose address is their PUBLIC_URL.
 */
export async function startTwoRedisInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const balancer = await startRoundRobin();
  const prefix = `latchkey-test:pair:${Date.now()}:${Math.random().toString(36).slice(2)}:`;
  const shared = { PUBLIC_URL: balancer.url, REDIS_KEY_PREFIX: prefix, LATCHKEY_SECRET: 'shared-instance-secret-of-at-least-32-chars', ...env };
  const a = await startTestServer({ store: 'redis', env: shared, keepData: true });
  const b = await startTestServer({ store: 'redis', env: shared, keepData: true });
  for (const instance of [a, b]) balancer.backends.push(`http://127.0.0.1:${(instance.server.address() as AddressInfo).port}`);
  return {
    balancer,
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      balancer.server.close();
      await dropRedisPrefix(prefix);
    },
  };
}
