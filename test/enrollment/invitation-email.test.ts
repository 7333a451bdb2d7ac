/** The invitation email itself: both parts say the same thing, and the HTML part escapes. */
import { describe, expect, it } from 'vitest';
import { formatExpiry, renderInvitationEmail } from '../../server/domain/invitation-email.ts';

describe('invitation email', () => {
  const expiresAt = Date.UTC(2030, 0, 14, 10, 0, 0);
  const link = 'https://id.example.com/enroll/abcDEF123_-abcDEF123_-abcDEF123_-abcDEF12';
  const email = renderInvitationEmail({
    orgName: 'Bolt & <Nut>',
    identity: { userName: 'zoe', givenName: 'Zoë <img src=x onerror=alert(1)>', familyName: null, displayName: null },
    link,
    expiresAt,
  });

  it('names the organisation, the person, the two steps, the link and its expiry in plain text', () => {
    expect(email.subject).toBe('Create your passkey for Bolt & <Nut>');
    expect(email.text).toContain('Hi Zoë <img src=x onerror=alert(1)>,');
    expect(email.text).toContain('Bolt & <Nut> now signs you in with a passkey');
    expect(email.text).toContain('What is a passkey?');
    expect(email.text).toContain(`\n${link}\n`);
    expect(email.text).toContain(`expires on ${formatExpiry(expiresAt)}`);
    expect(formatExpiry(expiresAt)).toBe('Mon, 14 Jan 2030 10:00:00 GMT');
  });

  it('escapes every dynamic value in the HTML part', () => {
    expect(email.html).not.toContain('<img');
    expect(email.html).not.toContain('<Nut>');
    expect(email.html).toContain('Zoë &lt;img src=x onerror=alert(1)&gt;');
    expect(email.html).toContain('Bolt &amp; &lt;Nut&gt;');
    expect(email.html).toContain(`href="${link}"`);
    expect(email.html).toContain('Mon, 14 Jan 2030 10:00:00 GMT');
  });
});
