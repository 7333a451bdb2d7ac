/** A round-robin HTTP balancer for tests: request n goes to backend n mod (number of backends). */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dropRedisPrefix, REDIS_URL, startTestServer, type TestServer } from './test-server.ts';
import { openServicesFor, startServerProcess, type ServerProcess } from './server-process.ts';
import type { Services } from '../../server/bootstrap.ts';

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

export interface TwoProcesses {
  balancer: Awaited<ReturnType<typeof startRoundRobin>>;
  processes: [ServerProcess, ServerProcess];
  /** The shared store, opened in the test process as the CLI opens it beside running servers. */
  services: Services;
  /** `url` is the balancer's: what setUpOkta and the builders need to act as Okta and a person. */
  url: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Production shape with real processes: two `npm start` servers (test/support/server-process.ts)
 * on one Redis under a private key prefix, one shared instance secret, behind the round-robin
 * balancer whose address is their PUBLIC_URL.
 */
export async function startTwoServerProcesses(env: Record<string, string> = {}): Promise<TwoProcesses> {
  const balancer = await startRoundRobin();
  const prefix = `latchkey-test:procs:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`;
  const shared = { STORE: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix, PUBLIC_URL: balancer.url, LATCHKEY_SECRET: 'shared-instance-secret-of-at-least-32-chars', ...env };
  // One after the other: the first creates the signing key and cookie keys, the second reads them.
  const first = await startServerProcess({ env: shared });
  const second = await startServerProcess({ env: shared });
  for (const instance of [first, second]) balancer.backends.push(`http://127.0.0.1:${instance.port}`);
  const opened = await openServicesFor({ ...shared, DATA_DIR: first.dataDir });
  return {
    balancer,
    processes: [first, second],
    services: opened.services,
    url: balancer.url,
    env: shared,
    async close() {
      await opened.close();
      await Promise.all([first.stop(), second.stop()]);
      balancer.server.close();
      await dropRedisPrefix(prefix);
    },
  };
}
