/** Groups (mostly pushed by Okta) and their members and apps. */
import { api } from '../ui/api.ts';
import { Badge, ErrorNote, Loading, useLoad } from '../ui/components.tsx';
import { DataTable, type Column } from '../ui/data-table.tsx';
import { Page } from '../ui/page.tsx';
import { Link } from '../ui/router.tsx';
import { useListQuery } from '../ui/use-list-query.ts';
import { kindLabels } from './apps/kinds.ts';
import type { GroupDetailView, GroupRow, IdentityView } from '../../server/edges/admin/views.ts';

const PAGE_SIZE = 25;

const groupColumns: Array<Column<GroupRow>> = [
  { header: 'Group', cell: (group) => <Link href={`/admin/groups/${group.id}`}>{group.displayName}</Link> },
  { header: 'Members', cell: (group) => group.members },
  { header: 'Source', cell: (group) => (group.scimManaged ? 'Okta (SCIM)' : 'Latchkey') },
];

export function GroupsPage() {
  const list = useListQuery<GroupRow>('/admin/api/groups', { pageSize: PAGE_SIZE });
  return (
    <Page title="Groups" intro={<p>Groups decide who may use each application. Okta pushes them over SCIM (Push Groups).</p>}>
      <div class="filters" role="search" aria-label="Filter groups">
        <label class="field field-inline grow">
          Search
          <input type="search" placeholder="Group name" {...list.search} />
        </label>
      </div>
      {list.error ? <ErrorNote error={list.error} /> : null}
      <DataTable caption="Groups" what="Groups" columns={groupColumns} page={list.page} empty="No group matches." />
    </Page>
  );
}

const memberColumns: Array<Column<IdentityView>> = [
  { header: 'Name', cell: (member) => <Link href={`/admin/identities/${member.id}`}>{member.name}</Link> },
  { header: 'Username', cell: (member) => member.userName },
  { header: 'Enrollment', cell: (member) => (member.active ? <Badge value={member.enrollmentStatus} /> : <Badge value="deactivated" />) },
];

export function GroupDetailPage({ id }: { id: string }) {
  const { data, error } = useLoad(() => api<GroupDetailView>('GET', `/admin/api/groups/${encodeURIComponent(id)}`), [id]);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="group" />;
  return (
    <Page
      crumbs={[{ href: '/admin/groups', label: 'Groups' }]}
      current={data.group.displayName}
      title={data.group.displayName}
      intro={
        <p>
          {data.total} member{data.total === 1 ? '' : 's'} · {data.group.scimManaged ? 'pushed by Okta' : 'created in Latchkey'}
        </p>
      }
      actions={
        <Link class="button" href={`/admin/identities?group=${id}`}>
          Filter identities by this group
        </Link>
      }
    >
      <div class="grid-2 grid-wide-left">
        <DataTable caption="Members" showCaption what="Members" columns={memberColumns} page={{ rows: data.members }} empty="No members." />
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
    </Page>
  );
}
