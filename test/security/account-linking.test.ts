/**
 * What Okta links an IdP login by, made trustworthy (issue 9, items 3 and 4), on both stores:
 * - email is unique after normalisation, so no two people can present the same address;
 * - email_verified is true only for an address Okta provisioned (SCIM) or the person proved by
 *   using an enrollment link mailed to it; an operator's edit makes it unverified again;
 * - userNames are NFKC + case folded for lookups (SCIM filter, login_hint) and a confusable
 *   look-alike (Unicode TR39 skeleton) of an existing userName is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminActor, CLI_ACTOR } from '../../server/domain/actor.ts';
import * as oidc from 'openid-client';
import { STORE_KINDS } from '../support/test-server.ts';
import { SCIM, query, startScimHarness, type ScimHarness } from '../conformance/scim-client.ts';
import { authorizationUrl, setUpOkta } from '../support/okta-fixture.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { CookieJar, enrollOverHttp, follow, pageData, signInOverHttp } from '../support/http-login.ts';
import { linkIn, startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { mailSendingFor } from '../enrollment/helpers.ts';

const user = (userName: string, email = userName) => ({
  schemas: [SCIM.user],
  userName,
  name: { givenName: 'Pat', familyName: 'Doe' },
  emails: [{ primary: true, value: email, type: 'work' }],
  active: true,
});

describe.each(STORE_KINDS)('account linking claims (%s)', (kind) => {
  let scim: ScimHarness;
  let sink: SmtpSink;
  let okta: Awaited<ReturnType<typeof setUpOkta>>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    scim = await startScimHarness(kind, { SMTP_URL: sink.url, MAIL_FROM: 'it@acme.test' });
    okta = await setUpOkta(scim.server);
  });
  afterAll(async () => {
    await scim?.close();
    await sink?.close();
  });

  it('refuses a second identity with the same email, however it is written: SCIM 409 uniqueness', async () => {
    expect((await scim.request('POST', '/Users', { body: user('ann@example.com') })).status).toBe(201);
    const duplicate = await scim.request('POST', '/Users', { body: user('ann.other@example.com', 'ANN@Example.COM') });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ schemas: [SCIM.error], status: '409', scimType: 'uniqueness' });
    expect(duplicate.body.detail).toMatch(/email/);
    const bob = await scim.request('POST', '/Users', { body: user('bob@example.com') });
    const moved = await scim.request('PUT', `/Users/${bob.body.id}`, { body: user('bob@example.com', 'ann@example.com') });
    expect(moved.status).toBe(409);
    expect(moved.body.scimType).toBe('uniqueness');
    expect((await scim.server.services.identities.require(bob.body.id)).email).toBe('bob@example.com');
  });

  it('refuses the same email from the console/CLI with a clear conflict', async () => {
    await expect(scim.server.services.identities.create({ userName: 'carl', email: 'Ann@example.com' }, CLI_ACTOR)).rejects.toMatchObject({
      code: 'conflict',
      field: 'email',
      message: expect.stringMatching(/email "Ann@example.com" is already used/),
    });
  });

  it('compares userNames after NFKC + case folding in SCIM filters and refuses confusables with 409', async () => {
    const jose = await scim.request('POST', '/Users', { body: user('jos\u00e9@example.com') });
    expect(jose.status).toBe(201);
    const decomposed = await scim.request('POST', '/Users', { body: user('JOSE\u0301@example.com', 'jose2@example.com') });
    expect(decomposed.status).toBe(409);
    expect(decomposed.body.scimType).toBe('uniqueness');
    const found = await scim.request('GET', `/Users?${query({ filter: 'userName eq "Jose\u0301@EXAMPLE.com"' })}`);
    expect(found.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([jose.body.id]);

    expect((await scim.request('POST', '/Users', { body: user('mallory', 'mallory@example.com') })).status).toBe(201);
    for (const lookalike of ['\uff4dallory', 'm\u0430llory', 'rnallory', 'MALL\u041eRY']) {
      const response = await scim.request('POST', '/Users', { body: user(lookalike, `${lookalike.length}-${lookalike.codePointAt(1)}@example.com`) });
      expect(response.status, lookalike).toBe(409);
      expect(response.body).toMatchObject({ scimType: 'uniqueness', detail: expect.stringMatching(/userName/) });
    }
    // A look-alike is not a way around a lookup either.
    const none = await scim.request('GET', `/Users?${query({ filter: 'userName eq "m\u0430llory"' })}`);
    expect(none.body.totalResults).toBe(0);
  });

  it('says email_verified only for an address Okta provisioned or the person proved', async () => {
    const { services } = scim.server;
    const created = await scim.request('POST', '/Users', { body: user('vera@example.com') });
    const id = created.body.id as string;
    await services.groups.change(okta.group.id, { members: { add: [id] } }, CLI_ACTOR);
    const authenticator = new SoftAuthenticator({ origin: scim.server.url });
    const { url } = await services.invites.issue(await services.identities.require(id), { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(url, authenticator)).status).toBe(200);

    async function idTokenClaims() {
      const request = authorizationUrl(okta.rp, { login_hint: 'VERA@example.com' });
      const result = await signInOverHttp({ origin: scim.server.url, authorizationUrl: request.url, authenticator });
      const tokens = await oidc.authorizationCodeGrant(okta.rp, new URL(result.callbackUrl), { expectedNonce: request.nonce, expectedState: request.state });
      return tokens.claims()!;
    }

    // Provisioned by Okta over SCIM: Okta vouches for the address.
    expect(await idTokenClaims()).toMatchObject({ email: 'vera@example.com', email_verified: true });

    // An admin retypes it in the console: nobody has proved the new address yet.
    const edited = await services.identities.update(id, { email: 'vera.new@example.com' }, adminActor('some-admin'));
    expect(edited.emailVerified).toBe(false);
    expect(await idTokenClaims()).toMatchObject({ email: 'vera.new@example.com', email_verified: false });

    // A link handed over by hand proves nothing about the mailbox...
    const byHand = await services.invites.issue(edited, { actor: CLI_ACTOR, delivery: 'link' });
    expect((await enrollOverHttp(byHand.url, new SoftAuthenticator({ origin: scim.server.url }))).status).toBe(200);
    expect((await services.identities.require(id)).emailVerified).toBe(false);

    // ...an invitation mailed to the address and used does.
    const { enrollmentMail, worker } = mailSendingFor(services);
    await enrollmentMail.sendInvites({ identities: [await services.identities.require(id)], actor: CLI_ACTOR });
    await worker.drain();
    // The invitation, not the security notices the earlier passkey changes sent to the same address.
    const message = sink.messages.find((candidate) => candidate.to.includes('vera.new@example.com') && /\/enroll\//.test(candidate.parsed.text ?? ''))!;
    expect((await enrollOverHttp(linkIn(message.parsed.text!), new SoftAuthenticator({ origin: scim.server.url }))).status).toBe(200);
    expect(await idTokenClaims()).toMatchObject({ email: 'vera.new@example.com', email_verified: true });
  });

  it('resolves login_hint after NFKC + case folding: fullwidth, decomposed and upper case find the person', async () => {
    const { services } = scim.server;
    const created = await scim.request('POST', '/Users', { body: user('ren\u00e9@example.com') });
    await services.groups.change(okta.group.id, { members: { add: [created.body.id] } }, CLI_ACTOR);
    const { url } = await services.invites.issue(await services.identities.require(created.body.id), { actor: CLI_ACTOR, delivery: 'link' });
    const authenticator = new SoftAuthenticator({ origin: scim.server.url });
    expect((await enrollOverHttp(url, authenticator)).status).toBe(200);
    const [credential] = await services.passkeys.listFor(created.body.id);
    for (const hint of ['RENE\u0301@EXAMPLE.COM', '\uff52\uff45\uff4e\u00e9@example.com']) {
      const jar = new CookieJar();
      const landing = await follow(jar, authorizationUrl(okta.rp, { login_hint: hint }).url, scim.server.url);
      const options = JSON.parse(pageData(await landing.response.text()).options);
      expect(options.allowCredentials?.map((allowed: { id: string }) => allowed.id), hint).toEqual([credential.id]);
    }
  });

  it('revokes open enrollment links when an operator changes the address they were sent to', async () => {
    const { services } = scim.server;
    const person = await services.identities.create({ userName: 'wendy', email: 'wendy@example.com' }, CLI_ACTOR);
    expect(person.emailVerified).toBe(false);
    const { invite } = await services.invites.issue(person, { actor: CLI_ACTOR, delivery: 'email' });
    await services.identities.update(person.id, { email: 'wendy@elsewhere.example' }, CLI_ACTOR);
    expect((await services.store.invites.get(invite.id))!.revokedAt).not.toBeNull();
  });
});
