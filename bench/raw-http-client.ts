/**
 * The cheapest HTTP/1.1 client we can write for load generation, with the same answer shape as
 * http-client.ts's `request`: kept-alive sockets, one request at a time on each, the request
 * written as one string, the response read by Content-Length.
 * - Why: on the benchmark's 2-core machine the load generator shares the CPU with the server under
 *   test. node:http's client spent about 0.3 ms of CPU per SCIM create (a lookup and a POST), half
 *   the server's own cost; every millisecond the generator burns is one the server does not get.
 *   The requests on the wire are the same (method, path, the same headers, the body).
 * - Not a general client: no chunked responses, no redirects, no TLS, no pipelining. A response it
 *   cannot read is an error, never a guess.
 */
import net from 'node:net';
import type { LeanResponse } from './http-client.ts';

interface Waiting {
  resolve: (response: LeanResponse) => void;
  reject: (error: Error) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');

class Connection {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Waiting | null = null;
  closed = false;
  lastUsed = Date.now();

  constructor(host: string, port: number, onClose: (connection: Connection) => void) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    const fail = (error?: Error) => {
      this.closed = true;
      onClose(this);
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.reject(error ?? new Error('connection closed before the response'));
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail());
  }

  send(head: string, body: string | undefined): Promise<LeanResponse> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(body ? head + body : head);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buffer.toString('latin1', 0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    let length = 0;
    let location: string | null = null;
    const setCookie: string[] = [];
    for (let i = 1; i < head.length; i++) {
      const colon = head[i].indexOf(':');
      const name = head[i].slice(0, colon).toLowerCase();
      const value = head[i].slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'location') location = value;
      else if (name === 'set-cookie') setCookie.push(value);
      else if (name === 'transfer-encoding') return this.fail(new Error(`raw-http-client reads Content-Length responses only, got transfer-encoding: ${value}`));
    }
    const bodyStart = end + HEADER_END.length;
    if (this.buffer.length < bodyStart + length) return;
    const text = this.buffer.toString('utf8', bodyStart, bodyStart + length);
    this.buffer = this.buffer.subarray(bodyStart + length);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ status, text, location, setCookie });
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
    this.socket.destroy();
  }
}

const idle = new Map<string, Connection[]>();

/**
 * Node's server closes a kept-alive socket after 5 s without a request (keepAliveTimeout): one idle
 * that long may be closing as we write to it (the request would fail, not be answered), so it is
 * not reused.
 */
const REUSE_WITHIN_MS = 4000;

/** Same contract as http-client.ts's `request`: the status, the body as text, Location and Set-Cookie. */
export async function rawRequest(method: string, url: string, headers: Record<string, string>, body?: string): Promise<LeanResponse> {
  const target = new URL(url);
  const host = target.hostname === 'localhost' ? '127.0.0.1' : target.hostname;
  const key = `${host}:${target.port}`;
  const pool = idle.get(key) ?? [];
  idle.set(key, pool);
  let connection = pool.pop();
  while (connection && (connection.closed || Date.now() - connection.lastUsed > REUSE_WITHIN_MS)) {
    if (!connection.closed) connection.socket.destroy();
    connection = pool.pop();
  }
  connection ??= new Connection(host, Number(target.port), (closed) => {
    const index = pool.indexOf(closed);
    if (index >= 0) pool.splice(index, 1);
  });
  let head = `${method} ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += body ? `content-length: ${Buffer.byteLength(body)}\r\n\r\n` : '\r\n';
  const response = await connection.send(head, body);
  connection.lastUsed = Date.now();
  if (!connection.closed) pool.push(connection);
  return response;
}
