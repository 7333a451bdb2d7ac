import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets never reach a log line: paths that carry one (enrollment links)
 * are masked before logging, and known secret-bearing fields are redacted as a second guard.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    redact: {
      paths: ['token', 'secret', 'client_secret', 'password', 'authorization', 'link', 'url', 'actionLink', '*.token', '*.secret', '*.client_secret', '*.password', '*.authorization', '*.link', '*.url', '*.actionLink', 'req.headers.authorization', 'req.headers.cookie'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** "/enroll/abc...xyz/start" -> "/enroll/[link]/start"; query strings are dropped entirely. */
export function maskPath(path: string): string {
  return path.split('?')[0].replace(/^\/enroll\/[^/]+/, '/enroll/[link]');
}

export type { Logger };
