/** Groups (mostly pushed by Okta) and their members and apps. */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../ui/api.ts';
import { TableMessage, Badge, ErrorNote, Loading, Pager, useLoad } from '../ui/components.tsx';
import { Link } from './router.tsx';
import { kindLabels } from './apps.tsx';
import type { GroupDetailView, GroupRow } from '../../server/edges/admin/views.ts';

const PAGE_SIZE = 25;

export function GroupsPage() {
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  useEffect(() => setOffset(0), [search]);
  const { data, error } = useLoad(
    () => api<{ total: number; items: GroupRow[] }>('GET', `/admin/api/groups${query({ search, offset, limit: PAGE_SIZE })}`),
    [search, offset],
  );
  return (
    <section aria-labelledby="page-title">
      <div class="page-header">
        <div>
          <h1 id="page-title">Groups</h1>
          <p class="muted">Groups decide who may use each application. Okta pushes them over SCIM (Push Groups).</p>
        </div>
      </div>
      <div class="filters" role="search" aria-label="Filter groups">
        <label class="field field-inline grow">
          Search
          <input type="search" placeholder="Group name" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
        </label>
      </div>
      {error ? <ErrorNote error={error} /> : null}
      <div class="card table-card">
        <table>
          <caption class="visually-hidden">Groups</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Members</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            <TableMessage columns={3} loading={data ? undefined : 'groups'} />
            {data?.items.map((group) => (
              <tr key={group.id}>
                <td>
                  <Link href={`/admin/groups/${group.id}`}>{group.displayName}</Link>
                </td>
                <td>{group.members}</td>
                <td>{group.scimManaged ? 'Okta (SCIM)' : 'Latchkey'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && <Pager offset={offset} limit={PAGE_SIZE} total={data.total} onChange={setOffset} what="Groups" />}
      </div>
    </section>
  );
}

export function GroupDetailPage({ id }: { id: string }) {
  const { data, error } = useLoad(
    () => api<GroupDetailView>('GET', `/admin/api/groups/${encodeURIComponent(id)}`),
    [id],
  );
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="group" />;
  return (
    <section aria-labelledby="page-title">
      <p class="breadcrumb">
        <Link href="/admin/groups">Groups</Link> › {data.group.displayName}
      </p>
      <div class="page-header">
        <div>
          <h1 id="page-title">{data.group.displayName}</h1>
          <p class="muted">
            {data.total} member{data.total === 1 ? '' : 's'} · {data.group.scimManaged ? 'pushed by Okta' : 'created in Latchkey'}
          </p>
        </div>
        <Link class="button" href={`/admin/identities?group=${id}`}>
          Filter identities by this group
        </Link>
      </div>
      <div class="grid-2 grid-wide-left">
        <div class="card table-card">
          <table>
            <caption>Members</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Username</th>
                <th scope="col">Enrollment</th>
              </tr>
            </thead>
            <tbody>
              {data.members.map((member) => (
                <tr key={member.id}>
                  <td>
                    <Link href={`/admin/identities/${member.id}`}>{member.name}</Link>
                  </td>
                  <td>{member.userName}</td>
                  <td>{member.active ? <Badge value={member.enrollmentStatus} /> : <Badge value="deactivated" />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="card">
          <h2>Assigned applications</h2>
          {data.apps.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <ul class="plain-list">
              {data.apps.map((app) => (
                <li key={app.id}>
                  <Link href={`/admin/apps/${app.id}/assignments`}>{app.name}</Link> <span class="muted small">{kindLabels[app.kind]}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}
