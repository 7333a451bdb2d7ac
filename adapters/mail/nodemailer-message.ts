import type { MailMessage } from '../../server/ports/mailer.ts';

/** The port's message as nodemailer's sendMail() takes it; shared by every nodemailer transport. */
export function toNodemailerMessage(from: string, message: MailMessage) {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
    messageId: message.messageId ? `<${message.messageId}>` : undefined,
    attachments: message.inlineImages?.map((image) => ({ cid: image.cid, content: image.content, contentType: image.contentType, filename: `${image.cid.split('@')[0]}.png`, contentDisposition: 'inline' as const })),
  };
}
