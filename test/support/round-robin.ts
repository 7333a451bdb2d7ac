/** A round-robin HTTP balancer for tests: request n goes to backend n mod (number of backends). */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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

