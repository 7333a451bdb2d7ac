/** Applications: the list, "Add application" (Okta, OIDC, Bookmark) and each app's page. */
import { useState } from 'preact/hooks';
import { api } from '../ui/api.ts';
import { ConfirmDialog, Badge, CopyField, ErrorNote, Loading, Modal, useLoad, useToast } from '../ui/components.tsx';
import { Link, navigate } from './router.tsx';
import { AssignmentsPanel } from './assignments.tsx';
import { OktaConnectionPanel, ScimPanel } from './provisioning.tsx';
import type { AppDetailView, AppView } from '../../server/edges/admin/views.ts';

export type AppInfo = AppView;

export const kindLabels: Record<AppInfo['kind'], string> = { okta: 'Okta (OIDC)', oidc: 'OpenID Connect', bookmark: 'Bookmark' };

export function AppsPage() {
  const { data, error, reload } = useLoad(() => api<{ items: AppInfo[] }>('GET', '/admin/api/apps'));
  const [adding, setAdding] = useState(false);
  return (
    <section aria-labelledby="page-title">
      <div class="page-header">
        <div>
          <h1 id="page-title">Applications</h1>
          <p class="muted">Okta federates sign-in to Latchkey as an OpenID Connect identity provider. Bookmarks appear as tiles on people's dashboards.</p>
        </div>
        <button type="button" class="button button-primary" onClick={() => setAdding(true)}>
          Add application
        </button>
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {!data ? (
        <Loading what="applications" />
      ) : data.items.length === 0 ? (
        <div class="empty">
          <h2>No applications yet</h2>
          <p>Add the Okta application first: it gives Okta the client id, secret and endpoints for its identity provider.</p>
        </div>
      ) : (
        <div class="card table-card">
          <table>
            <caption class="visually-hidden">Applications</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Client ID or link</th>
                <th scope="col">Assigned groups</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((app) => (
                <tr key={app.id}>
                  <td>
                    <span class="app-name">
                      {app.iconDataUri ? <img class="app-icon" src={app.iconDataUri} alt="" /> : <span class={`app-icon app-icon-${app.kind}`} aria-hidden="true">{app.name.charAt(0)}</span>}
                      <Link href={`/admin/apps/${app.id}`}>{app.name}</Link>
                    </span>
                  </td>
                  <td>
                    <Badge value={app.kind} label={kindLabels[app.kind]} />
                  </td>
                  <td class="mono small">{app.kind === 'bookmark' ? app.loginUrl : app.id}</td>
                  <td>{app.assignedGroupIds.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {adding && (
        <AddAppDialog
          onClose={() => setAdding(false)}
          onCreated={(app, secret) => {
            setAdding(false);
            reload();
            if (secret) sessionStorage.setItem(`new-secret:${app.id}`, secret);
            navigate(`/admin/apps/${app.id}`);
          }}
        />
      )}
    </section>
  );
}

function AddAppDialog(props: { onClose: () => void; onCreated: (app: AppInfo, secret: string | null) => void }) {
  const [kind, setKind] = useState<AppInfo['kind']>('okta');
  const [name, setName] = useState('');
  const [oktaDomain, setOktaDomain] = useState('');
  const [redirectUris, setRedirectUris] = useState('');
  const [loginUrl, setLoginUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body =
        kind === 'okta'
          ? { kind, oktaDomain, ...(name.trim() ? { name } : {}) }
          : kind === 'oidc'
            ? { kind, name, redirectUris: redirectUris.split(/\s+/).filter(Boolean) }
            : { kind, name, loginUrl };
      const result = await api<{ app: AppInfo; clientSecret?: string }>('POST', '/admin/api/apps', body);
      props.onCreated(result.app, result.clientSecret ?? null);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  return (
    <Modal
      title="Add application"
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" form="add-app" class="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create application'}
          </button>
        </>
      }
    >
      <form id="add-app" onSubmit={submit}>
        <fieldset class="choice-group">
          <legend>Application type</legend>
          {(['okta', 'oidc', 'bookmark'] as const).map((value) => (
            <label key={value} class={`choice ${kind === value ? 'choice-selected' : ''}`}>
              <input type="radio" name="kind" value={value} checked={kind === value} onChange={() => setKind(value)} />
              <span>
                <strong>{kindLabels[value]}</strong>
                <small>{value === 'okta' ? 'Okta signs people in through Latchkey' : value === 'oidc' ? 'Any other OpenID Connect relying party' : 'A tile linking to an app'}</small>
              </span>
            </label>
          ))}
        </fieldset>
        {kind === 'okta' ? (
          <>
            <label class="field">
              Okta domain
              <input required placeholder="https://dev-123456.okta.com" value={oktaDomain} onInput={(event) => setOktaDomain(event.currentTarget.value)} />
              <small class="muted">Your org URL, without "-admin". The redirect URI {'{org}'}/oauth2/v1/authorize/callback is registered for you.</small>
            </label>
            <label class="field">
              Display name (optional)
              <input placeholder="Okta" value={name} onInput={(event) => setName(event.currentTarget.value)} />
            </label>
          </>
        ) : (
          <label class="field">
            Display name
            <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </label>
        )}
        {kind === 'oidc' && (
          <label class="field">
            Redirect URIs (one per line)
            <textarea required rows={3} value={redirectUris} onInput={(event) => setRedirectUris(event.currentTarget.value)} />
          </label>
        )}
        {kind === 'bookmark' && (
          <label class="field">
            Login link
            <input required type="url" placeholder="https://example.okta.com/home/..." value={loginUrl} onInput={(event) => setLoginUrl(event.currentTarget.value)} />
          </label>
        )}
        {error ? <ErrorNote error={error} /> : null}
      </form>
    </Modal>
  );
}

type AppDetail = AppDetailView;

const oidcTabs = ['General', 'Client & endpoints', 'Provisioning', 'Okta registration attribute', 'Assignments'] as const;
const bookmarkTabs = ['General', 'Tile image', 'Assignments'] as const;

export function AppDetailPage({ id, tab }: { id: string; tab: string | null }) {
  const { data, error, reload } = useLoad(() => api<AppDetail>('GET', `/admin/api/apps/${encodeURIComponent(id)}`), [id]);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="application" />;
  const { app } = data;
  const tabs: readonly string[] = app.kind === 'bookmark' ? bookmarkTabs : oidcTabs;
  const slug = (name: string) => name.toLowerCase().replace(/[^a-z]+/g, '-').replace(/-$/, '');
  const current = tabs.find((name) => slug(name) === tab) ?? tabs[0];
  return (
    <section aria-labelledby="page-title">
      <p class="breadcrumb">
        <Link href="/admin/apps">Applications</Link> › {app.name}
      </p>
      <div class="page-header">
        <div class="app-title">
          {app.iconDataUri ? <img class="app-icon app-icon-large" src={app.iconDataUri} alt="" /> : <span class={`app-icon app-icon-large app-icon-${app.kind}`} aria-hidden="true">{app.name.charAt(0)}</span>}
          <div>
            <h1 id="page-title">{app.name}</h1>
            <Badge value={app.kind} label={kindLabels[app.kind]} />
          </div>
        </div>
      </div>
      <div class="tabs" role="tablist" aria-label="Application settings">
        {tabs.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${slug(name)}`}
            aria-selected={name === current}
            aria-controls="tab-panel"
            tabIndex={name === current ? 0 : -1}
            class="tab"
            onClick={() => navigate(`/admin/apps/${app.id}/${slug(name)}`)}
            onKeyDown={(event) => {
              const index = tabs.indexOf(name);
              const next = event.key === 'ArrowRight' ? tabs[(index + 1) % tabs.length] : event.key === 'ArrowLeft' ? tabs[(index - 1 + tabs.length) % tabs.length] : null;
              if (next) {
                navigate(`/admin/apps/${app.id}/${slug(next)}`);
                setTimeout(() => document.getElementById(`tab-${slug(next)}`)?.focus(), 0);
              }
            }}
          >
            {name}
          </button>
        ))}
      </div>
      <div id="tab-panel" role="tabpanel" aria-labelledby={`tab-${slug(current)}`} class="tab-panel">
        {current === 'General' && <GeneralPanel app={app} onChange={reload} />}
        {current === 'Client & endpoints' && <ClientPanel app={app} endpoints={data.endpoints!} />}
        {current === 'Provisioning' && <ScimPanel scimUrl={data.scimUrl!} />}
        {current === 'Okta registration attribute' && <OktaConnectionPanel defaultDomain={app.oktaDomain ?? ''} />}
        {current === 'Tile image' && <TileImagePanel app={app} onChange={reload} />}
        {current === 'Assignments' && <AssignmentsPanel app={app} assigned={data.assignedGroups} onChange={reload} />}
      </div>
    </section>
  );
}

function GeneralPanel({ app, onChange }: { app: AppInfo; onChange: () => void }) {
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

function ClientPanel({ app, endpoints }: { app: AppInfo; endpoints: Record<string, string> }) {
  const toast = useToast();
  const fresh = sessionStorage.getItem(`new-secret:${app.id}`);
  const [secret, setSecret] = useState<string | null>(fresh);
  const [confirmRotate, setConfirmRotate] = useState(false);
  return (
    <div class="card">
      <h2>Client information</h2>
      {fresh && (
        <p class="notice notice-info" role="note">
          Copy these values into Okta: Security › Identity Providers › Add identity provider › OpenID Connect IdP.
        </p>
      )}
      <CopyField label="Client ID" value={app.id} />
      <div class="copy-field">
        <label for="client-secret">Client secret</label>
        <div class="copy-row">
          {secret ? <input id="client-secret" class="mono" readOnly type="text" value={secret} /> : <input id="client-secret" class="mono" readOnly type="password" value="hidden-client-secret" />}
          {secret ? (
            <>
              <button type="button" class="button button-small" onClick={() => (setSecret(null), sessionStorage.removeItem(`new-secret:${app.id}`))}>
                Hide
              </button>
              <CopyButtonInline value={secret} />
            </>
          ) : (
            <button
              type="button"
              class="button button-small"
              onClick={async () => {
                try {
                  setSecret((await api<{ clientSecret: string }>('POST', `/admin/api/apps/${app.id}/secret/reveal`)).clientSecret);
                } catch (error) {
                  toast((error as Error).message, 'error');
                }
              }}
            >
              Reveal
            </button>
          )}
          <button type="button" class="button button-small" onClick={() => setConfirmRotate(true)}>
            Rotate
          </button>
        </div>
      </div>
      <h2>Endpoints</h2>
      <CopyField label="Issuer" value={endpoints.issuer} />
      <CopyField label="Authorization endpoint" value={endpoints.authorization_endpoint} />
      <CopyField label="Token endpoint" value={endpoints.token_endpoint} />
      <CopyField label="Userinfo endpoint" value={endpoints.userinfo_endpoint} />
      <CopyField label="JWKS URI" value={endpoints.jwks_uri} />
      <CopyField label="Discovery URL" value={endpoints.discovery_url} />
      {confirmRotate && (
        <ConfirmDialog
          title="Rotate the client secret?"
          confirmLabel="Rotate secret"
          onCancel={() => setConfirmRotate(false)}
          onConfirm={async () => {
            const result = await api<{ clientSecret: string }>('POST', `/admin/api/apps/${app.id}/secret/rotate`);
            setSecret(result.clientSecret);
            toast('New client secret created: update it in Okta now');
          }}
        >
          <p>The current secret stops working at once. Sign-ins through Okta fail until you paste the new secret into Okta's identity provider settings.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function CopyButtonInline({ value }: { value: string }) {
  const toast = useToast();
  return (
    <button type="button" class="button button-small" aria-label="Copy client secret" onClick={() => navigator.clipboard.writeText(value).then(() => toast('Client secret copied'))}>
      Copy
    </button>
  );
}

function readAsDataUri(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function TileImagePanel({ app, onChange }: { app: AppInfo; onChange: () => void }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  return (
    <div class="card">
      <h2>App tile image</h2>
      <p class="muted">PNG, JPEG or SVG, up to 256 KB. Every image is converted to a 128 × 128 PNG, so an SVG cannot carry script.</p>
      <div class="tile-preview">
        {app.iconDataUri ? <img src={app.iconDataUri} alt={`Current tile image of ${app.name}`} width={64} height={64} /> : <span class="app-icon app-icon-large app-icon-bookmark" aria-hidden="true">{app.name.charAt(0)}</span>}
        <label class="button">
          {busy ? 'Uploading…' : 'Upload image'}
          <input
            class="visually-hidden"
            type="file"
            accept="image/png,image/jpeg,image/svg+xml"
            aria-label="Upload tile image"
            onChange={async (event) => {
              const file = event.currentTarget.files?.[0];
              if (!file) return;
              if (file.size > 256 * 1024) {
                toast(`${file.name} is ${Math.ceil(file.size / 1024)} KB; the limit is 256 KB`, 'error');
                return;
              }
              setBusy(true);
              try {
                await api('PUT', `/admin/api/apps/${app.id}/icon`, { dataUri: await readAsDataUri(file) });
                toast('Tile image saved');
                onChange();
              } catch (error) {
                toast((error as Error).message, 'error');
              } finally {
                setBusy(false);
              }
            }}
          />
        </label>
      </div>
    </div>
  );
}
