/**
 * createApp(deps): the Koa stack and the mounted edges, in order:
 * request memo -> request id + access log -> metrics -> security headers -> error boundary -> SCIM ->
 * [oidc-provider's own paths: authorize, token, userinfo, jwks, revoke, discovery] ->
 * [the sign-in interaction, /interaction/*] -> health -> assets -> enrollment ->
 * console & dashboard (/admin, /) -> oidc-provider (logout and anything else it serves).
 */
import Koa from 'koa';
import type { Services } from './bootstrap.ts';
import { createCsrf } from './http/guards.ts';
import { errorBoundary, requestContext } from './http/errors.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createHealthRoutes } from './http/health.ts';
import { assetsDirectory, staticAssets } from './http/static-assets.ts';
import { createPasskeyCeremonies } from './edges/webauthn/ceremonies.ts';
import { startAuthenticatorMetadata } from './edges/webauthn/metadata-service.ts';
import { createOidcEdge } from './edges/oidc/oidc-edge.ts';
import { createSignIns } from './domain/sign-ins.ts';
import { createRateLimit, limitRequests } from './http/rate-limit.ts';
import { createEnrollmentEdge } from './edges/enrollment/enrollment-edge.ts';
import { createScimEdge } from './edges/scim/scim-edge.ts';
import { createAdminEdge } from './edges/admin/admin-edge.ts';
import { configureOkta, oktaStatus } from './edges/okta/okta-configure.ts';
import { oktaSyncFailures, retryOktaSync } from './edges/okta/okta-sync-failures.ts';
import { reconcileOkta } from './edges/okta/okta-reconcile.ts';
import type { EnrollmentMail } from './domain/enrollment-mail.ts';
import { createMailSending } from './workers/enrollment-mail-worker.ts';
import { openMailer } from '../adapters/mail/open-mailer.ts';
import type { Logger } from './logger.ts';
import { createMetricsEdge } from './edges/metrics/metrics-edge.ts';
import { ENROLLMENT_MAIL_QUEUE } from './domain/enrollment-mail.ts';
import { OKTA_SYNC_QUEUE } from './edges/okta/okta-sync.ts';
import { requestScope } from './caching/request-memo.ts';
import { OIDC_ROUTES } from './http/endpoints.ts';

/** Paths only oidc-provider serves (http/endpoints.ts), including the resume of an authorization (/authorize/:uid). */
const PROVIDER_PATH = new RegExp(`^(?:${[OIDC_ROUTES.authorization, OIDC_ROUTES.token, OIDC_ROUTES.userinfo, OIDC_ROUTES.jwks, OIDC_ROUTES.revocation].join('|')})(?:/[^/]*)?$|^/\\.well-known/openid-configuration$`);

const INTERACTION_PREFIX = '/interaction/';

export interface AppDeps {
  services: Services;
  cookieKeys: string[];
  logger: Logger;
  /** Queues the console's invitation emails; defaults to one over the configured mailer (a worker sends them). */
  enrollmentMail?: EnrollmentMail;
  /** True once a shutdown started: readiness answers 503 (server/runtime/shutdown.ts). */
  draining?: () => boolean;
}

export async function createApp(deps: AppDeps) {
  const { services, cookieKeys, logger } = deps;
  const { config, store, clock } = services;

  const app = new Koa();
  // oidc-provider signs its cookies with these keys; Koa must use the same ones or the
  // interaction loses its session between the login page and the provider.
  app.keys = cookieKeys;
  app.proxy = config.trustProxy;
  app.silent = true;

  const csrf = createCsrf(cookieKeys[0], config.origin);
  // The imported FIDO metadata, loaded before the first registration and followed on every import.
  const metadata = await startAuthenticatorMetadata({ store, clock, logger });
  const ceremonies = createPasskeyCeremonies({ oneTime: store.oneTime, clock, rpId: config.rpId, rpName: config.orgName, origin: config.origin });
  // One budget per client address for every passkey ceremony request (sign-in and enrollment).
  const ceremonyLimit = limitRequests(createRateLimit(config.signinRateLimitPerMinute, 60), (ctx) => ctx.ip);
  const signIns = createSignIns({ store, clock, audit: services.audit, apps: services.apps, ceremonies, policies: services.policies });
  // Every instance keeps the passkey policy and re-reads it the moment any process changes it.
  const stopPolicyWatch = await services.policies.watch((error) => logger.warn({ err: error }, 'passkey policy reload failed'));
  const oidc = await createOidcEdge({ services, ceremonies, cookieKeys, csrf, logger, ceremonyLimit, signIns });
  const enrollment = createEnrollmentEdge({ services, ceremonies, csrf, ceremonyLimit });
  const enrollmentMail = deps.enrollmentMail ?? createMailSending(services, openMailer(config, logger), logger).enrollmentMail;
  const admin = await createAdminEdge({
    services,
    csrf,
    enrollmentMail,
    openedBy: (accessToken) => oidc.openedBy(accessToken),
    signIns,
    okta: {
      status: (options) => oktaStatus(services, options),
      configure: (input, actor) => configureOkta(services, input, actor),
      failures: () => oktaSyncFailures(services),
      retry: (identityId) => retryOktaSync(services, identityId),
      reconcile: (actor) => reconcileOkta(services, { actor }),
    },
  });


  const metrics = createMetricsEdge({ services, logger, queues: [ENROLLMENT_MAIL_QUEUE, OKTA_SYNC_QUEUE] });
  // One memo of store reads per request (caching/request-memo.ts), for everything below.
  app.use(requestScope());
  app.use(requestContext(logger));
  app.use(metrics.observe);
  app.use(securityHeaders({ hsts: config.publicUrl.startsWith('https://') }));
  app.use(errorBoundary(logger, config.orgName, { storeUnavailable: (error) => store.unavailable(error) }));
  // SCIM next: Okta provisions in bursts (a lookup and a create per person), and nothing below
  // answers /scim/v2, so its requests need not pass every other edge first.
  app.use(createScimEdge({ services, logger }));
  // The provider's own endpoints (a login makes four of its six requests to them) go straight to
  // it: none of the edges below answers these paths, so they need not each look and pass.
  app.use((ctx, next) => (PROVIDER_PATH.test(ctx.path) ? oidc.provider(ctx, next) : next()));
  // The sign-in interaction (login page, passkey step: the other two of a login's six requests):
  // its routes all live under /interaction/, and only there are they mounted.
  app.use((ctx, next) => (ctx.path.startsWith(INTERACTION_PREFIX) ? oidc.routes(ctx, next) : next()));
  app.use(createHealthRoutes({ store, logger, draining: deps.draining, details: () => metadataDetails(metadata.status()) }));
  app.use(metrics.routes);
  app.use(staticAssets(assetsDirectory));
  app.use(enrollment.routes);
  app.use(admin.routes);
  app.use(oidc.provider);

  return {
    app,
    oidc,
    metadata,
    close: async () => {
      stopPolicyWatch();
      metadata.stop();
      await oidc.close();
    },
  };
}

/** /readyz details: a stale BLOB is a warning for the operator, not a reason to take traffic away. */
function metadataDetails(status: ReturnType<Awaited<ReturnType<typeof startAuthenticatorMetadata>>['status']>) {
  if (!status.loaded) return {};
  return {
    authenticator_metadata: {
      no: status.no,
      next_update: status.nextUpdate,
      statements: status.statements,
      ...(status.stale ? { warning: `stale: FIDO published a newer metadata BLOB on ${status.nextUpdate}; run latchkey metadata import with a fresh download` } : {}),
    },
  };
}
