/**
 * The end-user dashboard: tiles of the bookmark apps assigned to the person's groups, and their
 * own passkeys (rename, remove with a warning before the last one, add another).
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { startAuthentication } from '@simplewebauthn/browser';
import { api, formatTime } from '../ui/api.ts';
import { ConfirmDialog, ErrorNote, Loading, Modal, ToastProvider, useLoad, useToast } from '../ui/components.tsx';
import { BrandMark } from '../ui/brand-mark.tsx';
import { AuthenticatorModel } from '../ui/authenticator-model.tsx';

interface Me {
  me: { name: string; userName: string; email: string; isAdmin: boolean };
  orgName: string;
  tiles: Array<{ id: string; name: string; loginUrl: string; iconDataUri: string | null }>;
  passkeys: Array<{ id: string; name: string; model: string | null; modelIcon: string | null; synced: boolean; createdAt: string; lastUsedAt: string | null }>;
}

type Passkey = Me['passkeys'][number];

function Dashboard() {
  const toast = useToast();
  const { data, error, reload } = useLoad(() => api<Me>('GET', '/api/me'));
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const [removing, setRemoving] = useState<Passkey | null>(null);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="your apps" />;
  const last = data.passkeys.length === 1;
  return (
    <>
      <header class="topbar">
        <div class="brand">
          <BrandMark />
          {data.orgName}
        </div>
        <div class="topbar-right">
          {data.me.isAdmin && (
            <a class="button button-small button-ghost" href="/admin">
              Admin console
            </a>
          )}
          <span class="muted small">{data.me.userName}</span>
          <form method="post" action="/logout-session">
            <button type="submit" class="button button-small">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main id="main" class="dashboard">
        <h1>Hello, {data.me.name}</h1>
        <section aria-labelledby="apps-title">
          <h2 id="apps-title">Your apps</h2>
          {data.tiles.length === 0 ? (
            <p class="muted">No apps are assigned to you yet.</p>
          ) : (
            <ul class="tiles" aria-label="Your apps">
              {data.tiles.map((tile) => (
                <li key={tile.id}>
                  <a class="tile" href={tile.loginUrl} target="_blank" rel="noopener noreferrer">
                    {tile.iconDataUri ? <img src={tile.iconDataUri} alt="" width={56} height={56} /> : <span class="tile-letter" aria-hidden="true">{tile.name.charAt(0)}</span>}
                    <span class="tile-name">{tile.name}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="passkeys-title" class="card">
          <div class="card-header">
            <h2 id="passkeys-title">Your passkeys</h2>
            <button
              type="button"
              class="button button-primary"
              onClick={async () => {
                try {
                  // Step-up: confirm with an existing passkey in this same flow before a new one may be added.
                  const { options } = await api<{ options: Record<string, unknown> }>('POST', '/api/me/passkeys/new/options');
                  const assertion = await startAuthentication({ optionsJSON: options as never });
                  const { url } = await api<{ url: string }>('POST', '/api/me/passkeys/new', { assertion });
                  window.location.assign(`${url}?from=dashboard`);
                } catch (failure) {
                  toast((failure as Error).message, 'error');
                }
              }}
            >
              Add a passkey
            </button>
          </div>
          <ul class="passkey-list">
            {data.passkeys.map((passkey) => (
              <li key={passkey.id} class="passkey">
                <div>
                  <strong>{passkey.name}</strong>
                  <span class="muted small">
                    {passkey.model ? <><AuthenticatorModel name={passkey.model} icon={passkey.modelIcon} />{' · '}</> : ''}{passkey.synced ? 'Synced' : 'Device-bound'} · created {formatTime(passkey.createdAt)} · last used {passkey.lastUsedAt ? formatTime(passkey.lastUsedAt) : 'never'}
                  </span>
                </div>
                <div class="button-row">
                  <button type="button" class="button button-small" aria-label={`Rename passkey ${passkey.name}`} onClick={() => setRenaming(passkey)}>
                    Rename
                  </button>
                  <button type="button" class="button button-small button-danger" aria-label={`Remove passkey ${passkey.name}`} onClick={() => setRemoving(passkey)}>
                    Remove
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </section>
      </main>
      {renaming && <RenameDialog passkey={renaming} onClose={() => (setRenaming(null), reload())} />}
      {removing && (
        <ConfirmDialog
          title={last ? 'Remove your only passkey?' : `Remove "${removing.name}"?`}
          confirmLabel={last ? 'Remove my last passkey' : 'Remove passkey'}
          cancelLabel="Keep it"
          onCancel={() => (setRemoving(null), reload())}
          onConfirm={async () => {
            await api('POST', `/api/me/passkeys/${encodeURIComponent(removing.id)}/remove`, { confirmLast: last });
            toast(`Passkey "${removing.name}" removed`);
          }}
        >
          {last ? (
            <p class="notice notice-warn">
              This is your only passkey. Without it you cannot sign in to {data.orgName} or Okta until an administrator sends you a new enrollment link. Add another passkey first if you are replacing a device.
            </p>
          ) : (
            <p>You will no longer be able to sign in with this passkey.</p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}

function RenameDialog({ passkey, onClose }: { passkey: Passkey; onClose: () => void }) {
  const toast = useToast();
  const [name, setName] = useState(passkey.name);
  return (
    <Modal
      title="Rename passkey"
      onClose={onClose}
      footer={
        <>
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="rename" class="button button-primary">
            Save
          </button>
        </>
      }
    >
      <form
        id="rename"
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            await api('POST', `/api/me/passkeys/${encodeURIComponent(passkey.id)}/rename`, { name });
            toast('Passkey renamed');
            onClose();
          } catch (failure) {
            toast((failure as Error).message, 'error');
          }
        }}
      >
        <label class="field">
          Passkey name
          <input required maxLength={64} value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
      </form>
    </Modal>
  );
}

const root = document.getElementById('app')!;
root.textContent = '';
render(
  <ToastProvider>
    <Dashboard />
  </ToastProvider>,
  root,
);
