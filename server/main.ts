/** Wiring only: config -> store -> services -> app -> listen. */
import { ConfigError, loadConfig } from './config.ts';
import { cookieKeysFor, createServices, openStore } from './bootstrap.ts';
import { createApp } from './app.ts';
import { createLogger } from './logger.ts';
import { createOktaSyncWorker } from './edges/okta/okta-sync.ts';
import { openMailer } from '../adapters/mail/open-mailer.ts';
import { createMailSending } from './workers/enrollment-mail-worker.ts';

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
  const store = await openStore(config);
  const services = createServices(config, store);
  // Every passkey change records an Okta flag update in the same write (bootstrap.ts); the worker
  // delivers them once an Okta connection exists (it checks every 15 s, so `okta configure` needs no restart).
  const oktaSync = createOktaSyncWorker({ services, logger });
  oktaSync.start();
  const cookieKeys = await cookieKeysFor(config, store);
  const mailer = openMailer(config, logger);
  const { worker: mailWorker, enrollmentMail } = createMailSending(services, mailer, logger);
  const { app, close } = await createApp({ services, cookieKeys, logger, enrollmentMail });
  mailWorker.start();
  // Expired sessions, codes and challenges are invisible at once; this only reclaims the space.
  const sweeper = setInterval(() => {
    store.sweepExpired(Date.now()).catch((error) => logger.warn({ err: error }, 'expiry sweep failed'));
  }, config.expirySweepIntervalMs);
  sweeper.unref();
  const server = app.listen(config.port, () => {
    logger.info({ issuer: config.issuer, port: config.port, store: config.store }, `Latchkey listening on ${config.publicUrl}`);
  });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(async () => {
      close();
      clearInterval(sweeper);
      await oktaSync.stop();
      await mailWorker.stop();
      mailer.close();
      await store.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  console.error(`Latchkey failed to start: ${(error as Error).message}`);
  process.exit(1);
});
