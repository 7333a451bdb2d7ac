/** An app's display name, redirect URIs or login link, and deleting it. */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { ConfirmDialog, CopyField, useToast } from '../../ui/components.tsx';
import { navigate } from '../../ui/router.tsx';
import type { AppView } from '../../../server/edges/admin/views.ts';

type AppInfo = AppView;

export function GeneralPanel({ app, onChange }: { app: AppInfo; onChange: () => void }) {
  const toast = useToast();
  const [name, setName] = useState(app.name);
  const [confirmDelete, setConfirmDelete] = useState(false);
  return (
    <div class="card">
      <h2>General</h2>
      <form
        class="inline-form"
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            await api('PATCH', `/admin/api/apps/${app.id}`, { name });
            toast('Display name saved');
            onChange();
          } catch (error) {
            toast((error as Error).message, 'error');
          }
        }}
      >
        <label class="field">
          Display name
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <button type="submit" class="button">
          Save
        </button>
      </form>
      {app.kind === 'bookmark' && <CopyField label="Login link" value={app.loginUrl ?? ''} />}
      {app.kind !== 'bookmark' && (
        <div class="copy-field">
          <span class="label">Redirect URIs</span>
          <ul class="plain-list mono small">
            {app.redirectUris.map((uri) => (
              <li key={uri}>{uri}</li>
            ))}
          </ul>
        </div>
      )}
      <div class="danger-zone">
        <button type="button" class="button button-danger" onClick={() => setConfirmDelete(true)}>
          Delete application
        </button>
      </div>
      {confirmDelete && (
        <ConfirmDialog
          title={`Delete ${app.name}?`}
          confirmLabel="Delete"
          onCancel={() => setConfirmDelete(false)}
          onConfirm={async () => {
            await api('DELETE', `/admin/api/apps/${app.id}`);
            toast(`${app.name} deleted`);
            navigate('/admin/apps');
          }}
        >
          <p>{app.kind === 'bookmark' ? 'The tile disappears from every dashboard.' : 'Sign-in through this client stops at once. Okta will show an error until you configure another.'}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

