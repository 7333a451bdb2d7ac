/** The audit log: filtered by kind, person (as actor or target) and time, with names resolved. */
import { z } from 'zod';
import { AppError } from '../../../domain/errors.ts';
import { iso, type AuditRow } from '../views.ts';
import { parse, type AdminRouteDeps, type AdminRouter } from './context.ts';

const schemas = {
  auditQuery: z.object({
    kind: z.string().max(40).optional(),
    person: z.string().max(320).optional(),
    since: z.string().max(40).optional(),
    until: z.string().max(40).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
};

function timeParam(text: string | undefined, name: string): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new AppError('invalid_input', `${name} must be a date or time, got "${text}"`, { field: name });
  return ms;
}

export function registerAuditRoutes(router: AdminRouter, deps: AdminRouteDeps): void {
  const { services } = deps;
  const { store, audit } = services;

  router.get('/audit', async (ctx) => {
    const query = parse(schemas.auditQuery, ctx.query);
    const names = new Map<string, string>();
    let person: string | undefined;
    if (query.person?.trim()) {
      const identity = (await store.identities.getByUserName(query.person.trim())) ?? (await store.identities.get(query.person.trim()));
      if (!identity) throw new AppError('not_found', `no identity "${query.person}"`, { field: 'person' });
      person = `identity:${identity.id}`;
    }
    const base = { kind: query.kind || undefined, since: timeParam(query.since, 'since'), until: timeParam(query.until, 'until'), limit: query.limit };
    // A person's events: what they did (actor) and what was done to them (target).
    const events = person
      ? [...(await audit.list({ ...base, actor: person })), ...(await audit.list({ ...base, target: person }))]
          .filter((event, index, all) => all.findIndex((other) => other.id === event.id) === index)
          .sort((a, b) => b.at - a.at)
          .slice(0, query.limit)
      : await audit.list(base);
    for (const app of await store.apps.list()) names.set(`app:${app.id}`, app.name);
    for (const token of await services.scimTokens.list()) names.set(`scim-token:${token.id}`, `SCIM token “${token.name}”`);
    for (const ref of new Set(events.map((event) => event.target ?? '').filter((ref) => ref.startsWith('group:')))) {
      const group = await store.groups.get(ref.slice('group:'.length));
      if (group) names.set(ref, group.displayName);
    }
    const actorIds = [...new Set(events.flatMap((event) => [event.actor, event.target ?? '']).filter((ref) => ref.startsWith('identity:')).map((ref) => ref.slice('identity:'.length)))];
    for (const id of actorIds) {
      const identity = await store.identities.get(id);
      if (identity) names.set(`identity:${id}`, identity.userName);
    }
    const items: AuditRow[] = events.map((event) => ({ ...event, at: iso(event.at)!, actorName: names.get(event.actor) ?? null, targetName: event.target ? (names.get(event.target) ?? null) : null }));
    ctx.body = { items };
  });
}
