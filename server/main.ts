/** Wiring only: config -> lock -> store -> services -> app -> listen -> drain on SIGTERM. */
import { createServer } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { cookieKeysFor, createServices, openStore } from './bootstrap.ts';
import { createApp } from './app.ts';
import { createAdminService, FIRST_ADMIN_COMMAND } from './domain/admins.ts';
import { createLogger } from './logger.ts';
import { createOktaSyncWorker } from './edges/okta/okta-sync.ts';
import { openMailer } from '../adapters/mail/open-mailer.ts';
import { createMailSending } from './workers/enrollment-mail-worker.ts';
import { StartupError } from './runtime/startup-error.ts';
import { lockDataDir } from './runtime/data-dir-lock.ts';
import { listen } from './runtime/listen.ts';
import { drainOnSignals } from './runtime/shutdown.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Latchkey cannot start, the configuration has ${error.problems.length} problem(s):\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // One server per embedded store; the CLI beside it stays allowed (runtime/data-dir-lock.ts).
  const lock = config.store === 'sqlite' ? lockDataDir(config.dataDir) : null;
  const store = await openStore(config, { onError: (error) => logger.warn({ err: error }, 'Redis connection error; reconnecting') });
  const services = createServices(config, store);
  // Every passkey change records an Okta flag update in the same write (bootstrap.ts); the worker
  // delivers them once an Okta connection exists (it checks every 15 s, so `okta configure` needs no restart).
  const oktaSync = createOktaSyncWorker({ services, logger, baseBackoffMs: config.oktaRetry.baseMs, outageMaxBackoffMs: config.oktaRetry.maxMs });
  oktaSync.start();
  const cookieKeys = await cookieKeysFor(config, store);
  const mailer = openMailer(config, logger);
  const { worker: mailWorker, enrollmentMail } = createMailSending(services, mailer, logger);
  let draining = false;
  const { app, close } = await createApp({ services, cookieKeys, logger, enrollmentMail, draining: () => draining });
  mailWorker.start();
  // Expired sessions, codes and challenges are invisible at once; this only reclaims the space.
  const sweeper = setInterval(() => {
    store.sweepExpired(Date.now()).catch((error) => logger.warn({ err: error }, 'expiry sweep failed'));
  }, config.expirySweepIntervalMs);
  sweeper.unref();
  const server = createServer(app.callback());
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Past keepAliveTimeout (the usual advice for servers behind a balancer), never below Node's 60 s.
  server.headersTimeout = Math.max(server.headersTimeout, config.keepAliveTimeoutMs + 1000);
  await listen(server, config.port);
  logger.info({ issuer: config.issuer, port: config.port, store: config.store }, `Latchkey listening on ${config.publicUrl}`);
  createAdminService({ store, identities: services.identities, now: () => services.clock.now() })
    .noAdminYet()
    .then((fresh) => fresh && logger.warn(`No admin yet. Create the first one with: ${FIRST_ADMIN_COMMAND} (it prints an enrollment link), then sign in at ${config.publicUrl}/admin`))
    .catch(() => undefined);

  drainOnSignals({
    server,
    logger,
    graceMs: config.shutdownGraceMs,
    onDraining: () => {
      draining = true;
      clearInterval(sweeper);
    },
    stopWorkers: [() => oktaSync.stop(), () => mailWorker.stop()],
    close: [close, () => mailer.close(), () => store.close(), () => lock?.release()],
  });
}

main().catch((error) => {
  // One line an operator can act on; a stack trace only for what is really a bug.
  if (error instanceof StartupError) console.error(`Latchkey cannot start: ${error.message}`);
  else console.error(`Latchkey failed to start: ${(error as Error).message}`);
  process.exit(1);
});
