/**
 * Idle keep-alive connections outlive a load balancer's idle timeout (KEEP_ALIVE_TIMEOUT, 65 s by
 * default): with Node's own 5 s, a balancer that reuses a connection the server is just closing
 * answers 502 for a request that never reached it. The real server process, a raw socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/** One keep-alive connection: send a request, read one whole response (small, unchunked). */
class RawConnection {
  private buffered = '';
  private waiting: (() => void) | null = null;
  closedAt: number | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closedAt = Date.now();
      this.waiting?.();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  async get(path: string): Promise<string> {
    this.buffered = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
    const deadline = Date.now() + 5000;
    for (;;) {
      const end = this.buffered.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(this.buffered)?.[1] ?? NaN);
      if (end >= 0 && this.buffered.length >= end + 4 + length) return this.buffered.split('\r\n')[0];
      if (this.closedAt !== null) throw new Error('the server closed the connection');
      if (Date.now() > deadline) throw new Error('no response within 5 s');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('keep-alive connections (real server process)', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const started = async (env: Record<string, string> = {}): Promise<ServerProcess> => {
    const server = await startServerProcess({ env });
    cleanups.push(() => server.stop());
    return server;
  };

  it('keeps an idle connection past Node\'s 5 s by default, and closes it after KEEP_ALIVE_TIMEOUT when set', async () => {
    const [byDefault, short] = await Promise.all([started(), started({ KEEP_ALIVE_TIMEOUT: '1s' })]);
    const [kept, dropped] = await Promise.all([RawConnection.open(byDefault.port), RawConnection.open(short.port)]);
    cleanups.push(() => kept.close(), () => dropped.close());

    expect(await kept.get('/healthz')).toBe('HTTP/1.1 200 OK');
    expect(await dropped.get('/healthz')).toBe('HTTP/1.1 200 OK');
    const idleSince = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 6500));

    // 1 s asked for: closed by the server well before the 6.5 s wait ended.
    expect(dropped.closedAt).not.toBeNull();
    expect(dropped.closedAt! - idleSince).toBeLessThan(3000);
    // The default outlived Node's 5 s: the same connection serves the next request.
    expect(kept.closedAt).toBeNull();
    expect(await kept.get('/healthz')).toBe('HTTP/1.1 200 OK');
  });
});
