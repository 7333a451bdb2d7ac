/**
 * The enrollment invitation email: a branded HTML part and a plain-text part saying the same
 * thing. Rules:
 * - it names the organisation, says what a passkey is, walks through the two steps of the
 *   enrollment page, and shows the link and when it expires;
 * - every dynamic value in the HTML part is escaped (a display name comes from SCIM or an
 *   administrator, not from us);
 * - the link appears as a button and as plain text, for clients that block buttons.
 */
import type { IdentityRecord } from '../ports/storage.ts';
import { displayNameOf } from './identities.ts';

export interface InvitationEmail {
  subject: string;
  text: string;
  html: string;
}

export interface InvitationInput {
  orgName: string;
  identity: Pick<IdentityRecord, 'displayName' | 'givenName' | 'familyName' | 'userName'>;
  link: string;
  expiresAt: number;
}

/** How the expiry is written in both parts, e.g. "Tue, 14 Jan 2025 10:00:00 GMT". */
export function formatExpiry(expiresAt: number): string {
  return new Date(expiresAt).toUTCString();
}

// The same escaping as server/http/html.ts; the domain does not depend on the HTTP layer.
function escape(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

export function renderInvitationEmail(input: InvitationInput): InvitationEmail {
  const { orgName, link } = input;
  const name = input.identity.givenName || displayNameOf(input.identity);
  const expiry = formatExpiry(input.expiresAt);
  const subject = `Create your passkey for ${orgName}`;

  const text = [
    `Hi ${name},`,
    '',
    `${orgName} now signs you in with a passkey instead of a password.`,
    '',
    'What is a passkey? A sign-in key kept on your device (or in your password manager) and',
    'unlocked with your fingerprint, your face or your screen-lock PIN. There is no password to',
    `type or forget, and it cannot be phished: it only works on ${orgName}'s real sign-in page.`,
    '',
    'Two steps, about a minute:',
    '  1. Open the link below on the computer or phone you use for work. The page checks that',
    '     the device can keep a passkey; if it cannot, it offers to continue on your phone.',
    '  2. Press "Create passkey" and confirm with your fingerprint, face or PIN.',
    '',
    link,
    '',
    `This link stays valid until you create your passkey with it; it expires on ${expiry}.`,
    'Opening it does not use it up; only creating the passkey does.',
    '',
    `If you did not expect this email, ignore it: nothing happens unless the link is used.`,
    `Questions? Ask your ${orgName} administrator.`,
    '',
  ].join('\n');

  const e = {
    org: escape(orgName),
    name: escape(name),
    link: escape(link),
    expiry: escape(expiry),
  };
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:32px 12px;">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:12px;border:1px solid #e1e4e8;">
<tr><td style="padding:24px 32px;border-bottom:1px solid #e1e4e8;font-size:18px;font-weight:600;">&#128273; ${e.org}</td></tr>
<tr><td style="padding:28px 32px 8px;">
<h1 style="margin:0 0 16px;font-size:22px;">Hi ${e.name}, create your passkey</h1>
<p style="margin:0 0 16px;line-height:1.5;">${e.org} now signs you in with a passkey instead of a password.</p>
<p style="margin:0 0 16px;line-height:1.5;"><strong>What is a passkey?</strong> A sign-in key kept on your device (or in your password manager) and unlocked with your fingerprint, your face or your screen-lock PIN. There is no password to type or forget, and it cannot be phished: it only works on ${e.org}'s real sign-in page.</p>
<p style="margin:0 0 8px;line-height:1.5;"><strong>Two steps, about a minute:</strong></p>
<ol style="margin:0 0 24px;padding-left:20px;line-height:1.5;">
<li style="margin-bottom:8px;">Open the link on the computer or phone you use for work. The page checks that the device can keep a passkey; if it cannot, it offers to continue on your phone.</li>
<li>Press <em>Create passkey</em> and confirm with your fingerprint, face or PIN.</li>
</ol>
<table role="presentation" cellpadding="0" cellspacing="0"><tr><td style="border-radius:8px;background:#1f6feb;">
<a href="${e.link}" style="display:inline-block;padding:12px 24px;color:#ffffff;text-decoration:none;font-weight:600;">Create your passkey</a>
</td></tr></table>
<p style="margin:24px 0 8px;font-size:13px;color:#57606a;line-height:1.5;">Or copy this link into your browser:<br><a href="${e.link}" style="color:#1f6feb;word-break:break-all;">${e.link}</a></p>
<p style="margin:0 0 24px;font-size:13px;color:#57606a;line-height:1.5;">This link stays valid until you create your passkey with it; it expires on ${e.expiry}. Opening it does not use it up.</p>
</td></tr>
<tr><td style="padding:16px 32px 24px;border-top:1px solid #e1e4e8;font-size:12px;color:#57606a;line-height:1.5;">If you did not expect this email, ignore it: nothing happens unless the link is used. Questions? Ask your ${e.org} administrator.</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
  return { subject, text, html };
}
