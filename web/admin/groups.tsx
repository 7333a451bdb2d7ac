/** Groups (mostly pushed by Okta) and their members and apps. */
import { api } from '../ui/api.ts';
import { useState } from 'preact/hooks';
import { Badge, ConfirmDialog, ErrorNote, Loading, useLoad, useToast } from '../ui/components.tsx';
import { DataTable, type Column } from '../ui/data-table.tsx';
import { Page } from '../ui/page.tsx';
import { Link, navigate } from '../ui/router.tsx';
import { useListQuery } from '../ui/use-list-query.ts';
import { kindLabels } from './apps/kinds.ts';
import { AddMemberDialog, GroupNameDialog } from './group-dialogs.tsx';
import type { GroupDetailView, GroupRow, IdentityView } from '../../server/edges/admin/views.ts';
import { CREATED_BY, SOURCE_LABELS } from './sources.ts';

const PAGE_SIZE = 25;

const groupColumns: Array<Column<GroupRow>> = [
  { header: 'Group', cell: (group) => <Link href={`/admin/groups/${group.id}`}>{group.displayName}</Link> },
  { header: 'Members', cell: (group) => group.members },
  { header: 'Source', cell: (group) => SOURCE_LABELS[group.source] },
];

export function GroupsPage() {
  const list = useListQuery<GroupRow>('/admin/api/groups', { pageSize: PAGE_SIZE });
  const [creating, setCreating] = useState(false);
  return (
    <Page
      title="Groups"
      intro={<p>Groups decide who may use each application. Okta pushes its groups over SCIM (Push Groups) and owns them; groups created here are managed here.</p>}
      actions={
        <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
          Create group
        </button>
      }
    >
      {creating && <GroupNameDialog onClose={() => setCreating(false)} onSaved={(group) => navigate(`/admin/groups/${group.id}`)} />}
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

export function GroupDetailPage({ id }: { id: string }) {
  const toast = useToast();
  const { data, error, reload } = useLoad(() => api<GroupDetailView>('GET', `/admin/api/groups/${encodeURIComponent(id)}`), [id]);
  const [dialog, setDialog] = useState<'rename' | 'add' | 'delete' | null>(null);
  const [removing, setRemoving] = useState<IdentityView | null>(null);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="group" />;
  const { group } = data;
  const local = !group.scimManaged;
  const memberColumns: Array<Column<IdentityView>> = [
    { header: 'Name', cell: (member) => <Link href={`/admin/identities/${member.id}`}>{member.name}</Link> },
    { header: 'Username', cell: (member) => member.userName },
    { header: 'Enrollment', cell: (member) => (member.active ? <Badge value={member.enrollmentStatus} /> : <Badge value="deactivated" />) },
    ...(local
      ? [
          {
            header: <span class="visually-hidden">Action</span>,
            class: 'actions-cell',
            cell: (member: IdentityView) => (
              <button type="button" class="button button-small" aria-label={`Remove ${member.userName} from ${group.displayName}`} onClick={() => setRemoving(member)}>
                Remove
              </button>
            ),
          },
        ]
      : []),
  ];
  const close = () => (setDialog(null), reload());
  return (
    <Page
      crumbs={[{ href: '/admin/groups', label: 'Groups' }]}
      current={group.displayName}
      title={group.displayName}
      intro={
        <p>
          {data.total} member{data.total === 1 ? '' : 's'} · {CREATED_BY[group.source]}
        </p>
      }
      actions={
        <>
          <Link class="button" href={`/admin/identities?group=${id}`}>
            Filter identities by this group
          </Link>
          {local && (
            <>
              <button type="button" class="button" onClick={() => setDialog('rename')}>
                Rename
              </button>
              <button type="button" class="button button-danger" onClick={() => setDialog('delete')}>
                Delete group
              </button>
              <button type="button" class="button button-primary" onClick={() => setDialog('add')}>
                Add member
              </button>
            </>
          )}
        </>
      }
    >
      {group.scimManaged && (
        <p class="notice notice-info" role="note">
          Okta pushes this group over SCIM, so Okta owns its name and members: change them in Okta (Directory › Groups, then Push Groups). Assign it to applications here.
        </p>
      )}
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
      {dialog === 'rename' && <GroupNameDialog group={group} onClose={close} onSaved={close} />}
      {dialog === 'add' && <AddMemberDialog group={group} onClose={close} onAdded={close} />}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={`Delete ${group.displayName}?`}
          confirmLabel="Delete group"
          onCancel={() => setDialog(null)}
          onConfirm={async () => {
            await api('DELETE', `/admin/api/groups/${group.id}`);
            toast(`${group.displayName} deleted`);
            navigate('/admin/groups');
          }}
        >
          <p>Its members lose access to the {data.apps.length} application{data.apps.length === 1 ? '' : 's'} assigned to it. The people themselves are kept.</p>
        </ConfirmDialog>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.name} from ${group.displayName}?`}
          confirmLabel="Remove"
          onCancel={() => (setRemoving(null), reload())}
          onConfirm={async () => {
            await api('DELETE', `/admin/api/groups/${group.id}/members/${removing.id}`);
            toast(`${removing.userName} removed`);
          }}
        >
          <p>They lose access to the applications assigned to this group at their next sign-in.</p>
        </ConfirmDialog>
      )}
    </Page>
  );
}
