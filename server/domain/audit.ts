import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditRepository } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';

export type AuditInput = Omit<AuditEvent, 'id' | 'at' | 'outcome' | 'detail' | 'target'> &
  Partial<Pick<AuditEvent, 'outcome' | 'detail' | 'target'>>;

export interface AuditLog {
  record(event: AuditInput): Promise<void>;
  list: AuditRepository['list'];
}

/** Audit details must never carry a secret: callers pass ids and names, never tokens or links. */
export function createAuditLog(repository: AuditRepository, clock: Clock): AuditLog {
  return {
    async record(event) {
      await repository.append({
        id: randomUUID(),
        at: clock.now(),
        outcome: 'success',
        detail: {},
        target: null,
        ...event,
      });
    },
    list: (query) => repository.list(query),
  };
}
