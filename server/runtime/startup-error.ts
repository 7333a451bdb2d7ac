/**
 * A start-up failure an operator can act on: one line naming the variable and the cause, no
 * stack trace (main.ts prints `Latchkey cannot start: <message>` and exits 1).
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** redis://user:secret@host:6379/0 -> redis://host:6379/0: a URL is named in logs without its password. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/** The short cause of a system error: "ECONNREFUSED", "EACCES", else its message's first line. */
export function causeOf(error: unknown): string {
  const failure = error as { code?: unknown; message?: unknown };
  if (typeof failure?.code === 'string' && /^E[A-Z]+$/.test(failure.code)) return failure.code;
  return String(failure?.message ?? error).split('\n')[0];
}
