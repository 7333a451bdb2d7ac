/**
 * A ready-made Okta tenant as Latchkey sees it: the Okta app (registered through the same domain
 * service as `latchkey apps create-okta`), the "Beyond Identity" group assigned to it, and an
 * openid-client configuration playing Okta as the relying party.
 */
import * as oidc from 'openid-client';
import type { Services } from '../../server/bootstrap.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { enrolledPerson } from './builders.ts';
import { startTestServer, type StoreKind } from './test-server.ts';

/** Nothing listens here: tests catch the redirect to Okta's callback before it is followed. */
export const FAKE_OKTA = 'http://127.0.0.1:9';
export const OKTA_CALLBACK = `${FAKE_OKTA}/oauth2/v1/authorize/callback`;

export async function setUpOkta(server: { url: string; services: Services }, options: { auth?: 'basic' | 'post'; groupName?: string } = {}) {
  const { services } = server;
  const { app, clientSecret } = await services.apps.createOktaApp({ oktaDomain: FAKE_OKTA }, CLI_ACTOR);
  const group = await services.groups.create({ displayName: options.groupName ?? 'Beyond Identity' }, CLI_ACTOR);
  await services.apps.setAssignment(app.id, group.id, true, CLI_ACTOR);
  const auth = options.auth === 'post' ? oidc.ClientSecretPost(clientSecret) : oidc.ClientSecretBasic(clientSecret);
  const rp = await oidc.discovery(new URL(server.url), app.id, { client_secret: clientSecret }, auth, { execute: [oidc.allowInsecureRequests] });
  return { app, clientSecret, group, rp };
}

// People are built in one place (builders.ts); re-exported for the tests that import them from here.
export { createPerson, enrolledPerson } from './builders.ts';

/** The common start of an OIDC suite: a server on `store`, the Okta app, and Alice enrolled in its group. */
export async function startOktaTenant(store: StoreKind) {
  const server = await startTestServer({ store });
  const okta = await setUpOkta(server);
  const alice = await enrolledPerson(server, 'alice@example.com', okta.group.id);
  return { server, okta, alice };
}

export function authorizationUrl(rp: oidc.Configuration, params: Record<string, string> = {}) {
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: OKTA_CALLBACK, scope: 'openid email profile', state, nonce, ...params });
  return { url: url.href, state, nonce };
}
