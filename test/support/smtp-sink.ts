/**
 * A real SMTP server for tests (smtp-server), parsing every accepted message with mailparser.
 * It can simulate outages on its fixed port:
 * - `refuse`: answers every connection with 421 (a transient refusal, RFC 5321 §4.2.1);
 * - `hangup`: accepts TCP connections and drops them at once (connection lost);
 * - `down`: nothing listens (connection refused);
 * - `rejectRecipients`: answers RCPT TO with 550 for these addresses (a permanent refusal);
 * - `deferRecipients`: answers RCPT TO with 450 for these addresses (mailbox busy, try later);
 * - `refuseFor(ms, { code, stage })`: for a window of time, answers every session with `code`
 *   (4xx or 5xx) at the greeting or at MAIL FROM, as a relay in trouble does.
 * `beforeMail` runs on every MAIL FROM before it is answered, e.g. to kill a sender mid-batch.
 */
import net, { type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface SunkMessage {
  /** Envelope recipients, lower-case. */
  to: string[];
  from: string;
  parsed: ParsedMail;
  raw: Buffer;
  receivedAt: number;
}

export type SinkMode = 'accept' | 'refuse' | 'hangup' | 'down';

export interface SmtpSink {
  readonly port: number;
  readonly url: string;
  readonly messages: SunkMessage[];
  /** How many MAIL FROM commands arrived (accepted or not). */
  readonly mailCommands: number;
  readonly mode: SinkMode;
  rejectRecipients: Set<string>;
  deferRecipients: Set<string>;
  /** Sessions answered with the refusal window's code so far. */
  readonly refused: number;
  /** Connections that met each outage mode so far ('down' is never seen: nothing listens). */
  readonly outageConnections: { refuse: number; hangup: number };
  refuseFor(ms: number, reply?: { code?: number; stage?: 'connect' | 'mail' }): void;
  beforeMail: ((count: number) => void | Promise<void>) | null;
  setMode(mode: SinkMode): Promise<void>;
  countFor(address: string): number;
  waitForMessages(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  let mailCommands = 0;
  let mode: SinkMode = 'accept';
  let port = 0;
  let listener: { close(): Promise<void> } | null = null;
  let refusal: { code: number; stage: 'connect' | 'mail'; until: number } | null = null;
  let refused = 0;
  const outageConnections = { refuse: 0, hangup: 0 };
  const refusing = (stage: 'connect' | 'mail') => refusal !== null && refusal.stage === stage && Date.now() < refusal.until;
  const refusalError = () => {
    refused++;
    return smtpError(refusal!.code, `${refusal!.code} ${refusal!.code >= 500 ? '5.3.0' : '4.3.0'} Service unavailable (test refusal window)`);
  };

  const sink: SmtpSink = {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    messages,
    get mailCommands() {
      return mailCommands;
    },
    get mode() {
      return mode;
    },
    rejectRecipients: new Set(),
    deferRecipients: new Set(),
    get refused() {
      return refused;
    },
    outageConnections,
    refuseFor(ms, reply = {}) {
      refusal = { code: reply.code ?? 554, stage: reply.stage ?? 'mail', until: Date.now() + ms };
    },
    beforeMail: null,
    async setMode(next) {
      if (next === mode) return;
      await listener?.close();
      listener = null;
      mode = next;
      if (mode === 'accept' || mode === 'refuse') listener = await listenSmtp();
      else if (mode === 'hangup') listener = await listenHangup();
    },
    countFor(address) {
      return messages.filter((message) => message.to.includes(address.toLowerCase())).length;
    },
    async waitForMessages(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`SMTP sink: expected ${count} messages, got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      await listener?.close();
      listener = null;
    },
  };

  async function listenSmtp(): Promise<{ close(): Promise<void> }> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      // A closed sink must not wait for clients: an outage is abrupt.
      closeTimeout: 100,
      onConnect(_session, callback) {
        if (mode === 'refuse') outageConnections.refuse++;
        if (mode === 'refuse') return callback(smtpError(421, 'Service not available, closing transmission channel (test outage)'));
        if (refusing('connect')) return callback(refusalError());
        callback();
      },
      onMailFrom(_address, _session, callback) {
        mailCommands++;
        if (refusing('mail')) return callback(refusalError());
        Promise.resolve(sink.beforeMail?.(mailCommands)).then(() => callback(), (error: Error) => callback(error));
      },
      onRcptTo(address, _session, callback) {
        if (sink.rejectRecipients.has(address.address.toLowerCase())) return callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: user unknown`));
        if (sink.deferRecipients.has(address.address.toLowerCase())) return callback(smtpError(450, `4.2.1 <${address.address}>: Mailbox busy, try again later`));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then(
            (parsed) => {
              messages.push({
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                parsed,
                raw,
                receivedAt: Date.now(),
              });
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.server.address() as AddressInfo).port;
    return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  async function listenHangup(): Promise<{ close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      outageConnections.hangup++;
      socket.on('error', () => undefined);
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return {
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  listener = await listenSmtp();
  return sink;
}

/** The enrollment link in a message's text part. */
export function linkIn(text: string): string {
  const match = /https?:\/\/\S+\/enroll\/[A-Za-z0-9_-]+/.exec(text);
  if (!match) throw new Error('no enrollment link in the message');
  return match[0];
}
