/** Binds the HTTP port, turning the usual failures into one clear line. */
import type { Server } from 'node:http';
import { StartupError, causeOf } from './startup-error.ts';

export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE'
          ? 'is already in use by another process'
          : error.code === 'EACCES'
            ? 'needs privileges this process does not have (use a port above 1023)'
            : `cannot be bound (${causeOf(error)})`;
      reject(new StartupError(`PORT ${port} ${reason}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
