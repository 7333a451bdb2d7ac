/**
 * Identities: a server-paged, searchable table (fast on 10,000+ people) with enrollment-status and
 * group filters, multi-select and the bulk "Add passkey(s)" email.
 */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { Badge, ErrorNote, useLoad } from '../../ui/components.tsx';
import { DataTable, type Column } from '../../ui/data-table.tsx';
import { Page } from '../../ui/page.tsx';
import { Link, navigate } from '../../ui/router.tsx';
import { useListQuery } from '../../ui/use-list-query.ts';
import type { GroupRow, IdentityView } from '../../../server/edges/admin/views.ts';
import { BulkSendDialog } from './bulk-send-dialog.tsx';
import { CreateIdentityDialog } from './create-identity-dialog.tsx';

const PAGE_SIZE = 25;

export function IdentitiesPage() {
  const list = useListQuery<IdentityView>('/admin/api/identities', { pageSize: PAGE_SIZE, filters: { status: '', group: '' }, urlPath: '/admin/identities' });
  const [selected, setSelected] = useState<Map<string, IdentityView>>(new Map());
  const [sending, setSending] = useState(false);
  const [creating, setCreating] = useState(false);
  const groups = useLoad(() => api<{ items: GroupRow[] }>('GET', '/admin/api/groups?limit=200'));
  const items = list.page.rows ?? [];
  const allOnPage = items.length > 0 && items.every((row) => selected.has(row.id));

  function toggle(row: IdentityView, on: boolean) {
    setSelected((current) => {
      const next = new Map(current);
      if (on) next.set(row.id, row);
      else next.delete(row.id);
      return next;
    });
  }

  const columns: Array<Column<IdentityView>> = [
    {
      header: (
        <input
          type="checkbox"
          aria-label="Select all identities on this page"
          checked={allOnPage}
          onChange={(event) => {
            const on = event.currentTarget.checked;
            for (const row of items) toggle(row, on);
          }}
        />
      ),
      class: 'check-cell',
      cell: (row) => <input type="checkbox" aria-label={`Select ${row.userName}`} checked={selected.has(row.id)} onChange={(event) => toggle(row, event.currentTarget.checked)} />,
    },
    {
      header: 'Name',
      cell: (row) => (
        <>
          <Link href={`/admin/identities/${row.id}`}>{row.name}</Link>
          {row.roles.includes('admin') && <span class="tag">Admin</span>}
        </>
      ),
    },
    { header: 'Username', cell: (row) => row.userName },
    { header: 'Email', cell: (row) => row.email },
    { header: 'Enrollment', cell: (row) => <Badge value={row.enrollmentStatus} /> },
    { header: 'Account', cell: (row) => (row.active ? <Badge value="active" /> : <Badge value="deactivated" />) },
    { header: 'Source', cell: (row) => (row.scimManaged ? 'Okta (SCIM)' : 'Latchkey') },
  ];

  return (
    <Page
      title="Identities"
      intro={<p>People Okta provisions over SCIM (Okta owns their profiles) and people added here. Send enrollment emails so they can create a passkey.</p>}
      actions={
        <>
        <button type="button" class="button" onClick={() => setCreating(true)}>
          Add person
        </button>
        <button type="button" class="button button-primary" disabled={selected.size === 0} onClick={() => setSending(true)}>
          Add passkey(s){selected.size > 0 ? ` (${selected.size})` : ''}
        </button>
        </>
      }
    >
      <div class="filters" role="search" aria-label="Filter identities">
        <label class="field field-inline grow">
          Search
          <input type="search" placeholder="Name, username or email" {...list.search} />
        </label>
        <label class="field field-inline">
          Enrollment status
          <select value={list.filters.status} onChange={(event) => list.setFilter('status', event.currentTarget.value)}>
            <option value="">Any status</option>
            <option value="unenrolled">Unenrolled</option>
            <option value="pending">Pending</option>
            <option value="enrolled">Enrolled</option>
          </select>
        </label>
        <label class="field field-inline">
          Group
          <select value={list.filters.group} onChange={(event) => list.setFilter('group', event.currentTarget.value)}>
            <option value="">Any group</option>
            {(groups.data?.items ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.displayName}
              </option>
            ))}
          </select>
        </label>
      </div>
      {selected.size > 0 && (
        <p class="selection-bar" role="status">
          {selected.size} selected{' '}
          <button type="button" class="link-button" onClick={() => setSelected(new Map())}>
            Clear selection
          </button>
        </p>
      )}
      {list.error ? <ErrorNote error={list.error} /> : null}
      <DataTable caption="Identities" what="Identities" columns={columns} page={list.page} empty="No identity matches these filters." rowClass={(row) => (selected.has(row.id) ? 'selected' : undefined)} />
      {creating && <CreateIdentityDialog onClose={() => setCreating(false)} onCreated={(identity) => navigate(`/admin/identities/${identity.id}`)} />}
      {sending && (
        <BulkSendDialog
          people={[...selected.values()]}
          onClose={() => {
            setSending(false);
            setSelected(new Map());
            list.reload();
          }}
        />
      )}
    </Page>
  );
}
