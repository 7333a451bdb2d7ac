/** The audit log: admin actions, SCIM changes, sign-ins and failures, enrollments, Okta sync. */
import { useState } from 'preact/hooks';
import { api, formatTime, query } from '../ui/api.ts';
import { TableMessage, Badge, ErrorNote, useLoad } from '../ui/components.tsx';
import type { AuditRow } from '../../server/edges/admin/views.ts';


const kinds = [
  ['', 'All kinds'],
  ['admin', 'Admin actions'],
  ['scim', 'SCIM changes'],
  ['auth', 'Sign-ins and failures'],
  ['enrollment', 'Enrollments'],
  ['okta-sync', 'Okta sync deliveries'],
  ['cli', 'Command line'],
];

const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const [filters, setFilters] = useState({ kind: '', person: '', since: '', until: '' });
  const [applied, setApplied] = useState(filters);
  const { data, error } = useLoad(
    () => api<{ items: AuditRow[] }>('GET', `/admin/api/audit${query({ kind: applied.kind, person: applied.person.trim(), since: toIso(applied.since), until: toIso(applied.until), limit: 200 })}`),
    [applied],
  );
  return (
    <section aria-labelledby="page-title">
      <div class="page-header">
        <div>
          <h1 id="page-title">Audit log</h1>
          <p class="muted">Newest first. Secrets, links and tokens are never recorded.</p>
        </div>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ ...filters });
        }}
      >
        <label class="field field-inline">
          Kind
          <select value={filters.kind} onChange={(event) => setFilters({ ...filters, kind: event.currentTarget.value })}>
            {kinds.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="field field-inline grow">
          Person
          <input placeholder="Username" value={filters.person} onInput={(event) => setFilters({ ...filters, person: event.currentTarget.value })} />
        </label>
        <label class="field field-inline">
          From
          <input type="datetime-local" value={filters.since} onInput={(event) => setFilters({ ...filters, since: event.currentTarget.value })} />
        </label>
        <label class="field field-inline">
          To
          <input type="datetime-local" value={filters.until} onInput={(event) => setFilters({ ...filters, until: event.currentTarget.value })} />
        </label>
        <button type="submit" class="button">
          Apply filters
        </button>
      </form>
      {error ? <ErrorNote error={error} /> : null}
      <div class="card table-card">
        <table>
          <caption class="visually-hidden">Audit events</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Kind</th>
              <th scope="col">Action</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            <TableMessage columns={6} loading={data ? undefined : 'events'} empty={data?.items.length === 0 ? 'No events match these filters.' : undefined} />
            {data?.items.map((event) => (
              <tr key={event.id}>
                <td class="nowrap">{formatTime(event.at)}</td>
                <td>{event.kind}</td>
                <td class="mono small">
                  {event.action}
                  {typeof event.detail.method === 'string' && <span class="audit-detail">{`${event.detail.method} ${String(event.detail.route)} → ${String(event.detail.status)}`}</span>}
                </td>
                <td class="small">{event.actorName ?? event.actor}</td>
                <td class="small">{event.targetName ?? event.target ?? '—'}</td>
                <td>
                  <Badge value={event.outcome} />
                  {event.outcome === 'failure' && reasonOf(event) && <span class="audit-detail small">{reasonOf(event)}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Why a failure happened, in whichever detail field its recorder used. */
function reasonOf(event: AuditRow): string | null {
  const { detail } = event;
  for (const key of ['reason', 'errorSummary', 'error', 'message']) if (typeof detail[key] === 'string' && detail[key]) return detail[key] as string;
  return null;
}
