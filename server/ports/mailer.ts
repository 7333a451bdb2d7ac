/**
 * The outgoing-mail port. Adapters (adapters/mail/) deliver one message per call. Rules:
 * - send() resolves only once the message is accepted (the SMTP server answered 250, or the
 *   development outbox wrote the file); anything else throws a MailSendError;
 * - a MailSendError says whether trying again later can help (RFC 5321 §4.2.1: 4yz replies and
 *   lost connections are transient, 5yz replies are permanent), and carries the server's text so
 *   an administrator sees the real reason.
 */

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * A stable Message-ID (RFC 5322 §3.6.4) without angle brackets. Reusing it when a message has
   * to be sent again lets mail systems and people recognise the copy as the same message.
   */
  messageId?: string;
  headers?: Record<string, string>;
  /** The message's one action link (a secret: never logged). Transports put it nowhere but the message. */
  actionLink?: string;
  /**
   * Images the HTML shows as <img src="cid:{cid}"> (RFC 2392), attached inline: mail clients
   * block data: URLs and remote images, but show inline parts. PNG only (SVG is not shown by most).
   */
  inlineImages?: Array<{ cid: string; content: Buffer; contentType: 'image/png' }>;
}

export interface MailReceipt {
  messageId: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<MailReceipt>;
  close(): void;
}

export class MailSendError extends Error {
  /** true: the same message may go through later (4yz reply, refused or dropped connection). */
  readonly transient: boolean;
  /** The SMTP reply code, when the server answered. */
  readonly responseCode: number | null;
  /**
   * 'recipient': about this message's recipient (a reply to RCPT TO, an invalid address), so other
   * messages may still go through; 'server': the mail server refuses or cannot be reached, whoever
   * the recipient is (an outage: the queue pauses instead of failing each message).
   */
  readonly scope: 'recipient' | 'server';
  constructor(message: string, options: { transient: boolean; responseCode?: number | null; scope?: 'recipient' | 'server'; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'MailSendError';
    this.transient = options.transient;
    this.responseCode = options.responseCode ?? null;
    this.scope = options.scope ?? (options.transient ? 'server' : 'recipient');
  }
}
