/** Applications: the list and "Add application". */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { Badge, ErrorNote, Loading, useLoad } from '../../ui/components.tsx';
import { DataTable, type Column } from '../../ui/data-table.tsx';
import { Page } from '../../ui/page.tsx';
import { navigate, Link } from '../../ui/router.tsx';
import type { AppView } from '../../../server/edges/admin/views.ts';
import { kindLabels } from './kinds.ts';
import { AddAppDialog } from './add-app-dialog.tsx';

const columns: Array<Column<AppView>> = [
  {
    header: 'Name',
    cell: (app) => (
      <span class="app-name">
        {app.iconDataUri ? <img class="app-icon" src={app.iconDataUri} alt="" /> : <span class={`app-icon app-icon-${app.kind}`} aria-hidden="true">{app.name.charAt(0)}</span>}
        <Link href={`/admin/apps/${app.id}`}>{app.name}</Link>
      </span>
    ),
  },
  { header: 'Type', cell: (app) => <Badge value={app.kind} label={kindLabels[app.kind]} /> },
  { header: 'Okta domain', class: 'small', cell: (app) => app.oktaDomain ?? '—' },
  { header: 'Client ID or link', class: 'mono small', cell: (app) => (app.kind === 'bookmark' ? app.loginUrl : app.id) },
  { header: 'Assigned groups', cell: (app) => app.assignedGroupIds.length },
];

export function AppsPage() {
  const { data, error, reload } = useLoad(() => api<{ items: AppView[] }>('GET', '/admin/api/apps'));
  const [adding, setAdding] = useState(false);
  return (
    <Page
      title="Applications"
      intro={<p>Okta federates sign-in to Latchkey as an OpenID Connect identity provider. Bookmarks appear as tiles on people's dashboards.</p>}
      actions={
        <button type="button" class="button button-primary" onClick={() => setAdding(true)}>
          Add application
        </button>
      }
    >
      {error ? <ErrorNote error={error} /> : null}
      {!data ? (
        <Loading what="applications" />
      ) : data.items.length === 0 ? (
        <div class="empty">
          <h2>No applications yet</h2>
          <p>Add the Okta application first: it gives Okta the client id, secret and endpoints for its identity provider.</p>
        </div>
      ) : (
        <DataTable caption="Applications" what="Applications" columns={columns} page={{ rows: data.items }} empty="No application yet." />
      )}
      {adding && (
        <AddAppDialog
          existing={data?.items ?? []}
          onClose={() => setAdding(false)}
          onCreated={(app, secret) => {
            setAdding(false);
            reload();
            if (secret) sessionStorage.setItem(`new-secret:${app.id}`, secret);
            navigate(`/admin/apps/${app.id}`);
          }}
        />
      )}
    </Page>
  );
}
