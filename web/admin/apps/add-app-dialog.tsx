/** "Add application": an Okta app (its redirect URI derived from the domain), any OIDC client, or a bookmark tile. */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { FormDialog } from '../../ui/form-dialog.tsx';
import type { AppView } from '../../../server/edges/admin/views.ts';
import { kindLabels } from './kinds.ts';

type AppInfo = AppView;

export function AddAppDialog(props: { existing: AppView[]; onClose: () => void; onCreated: (app: AppInfo, secret: string | null) => void }) {
  const [kind, setKind] = useState<AppInfo['kind']>('okta');
  const [name, setName] = useState('');
  const [oktaDomain, setOktaDomain] = useState('');
  const [redirectUris, setRedirectUris] = useState('');
  const [loginUrl, setLoginUrl] = useState('');

  // Okta links people by one identity provider per org: a second app for the same org is
  // usually a mistake (a second IdP, a second client id to keep in step).
  const host = (text: string) => {
    try {
      return new URL(/^https?:\/\//.test(text.trim()) ? text.trim() : `https://${text.trim()}`).host.replace(/-admin\./, '.').toLowerCase();
    } catch {
      return null;
    }
  };
  const sameOrg = kind === 'okta' && oktaDomain.trim() ? props.existing.find((app) => app.kind === 'okta' && app.oktaDomain && host(app.oktaDomain) === host(oktaDomain)) : undefined;

  async function submit() {
    const body =
      kind === 'okta'
        ? { kind, oktaDomain, ...(name.trim() ? { name } : {}) }
        : kind === 'oidc'
          ? { kind, name, redirectUris: redirectUris.split(/\s+/).filter(Boolean) }
          : { kind, name, loginUrl };
    const result = await api<{ app: AppInfo; clientSecret?: string }>('POST', '/admin/api/apps', body);
    props.onCreated(result.app, result.clientSecret ?? null);
  }

  return (
    <FormDialog title="Add application" submitLabel={sameOrg ? 'Create a second Okta app' : 'Create application'} busyLabel="Creating…" onClose={props.onClose} onSubmit={submit}>
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
            {sameOrg && (
              <p class="notice notice-warn" role="alert">
                <strong>{sameOrg.name}</strong> is already the Okta app for {sameOrg.oktaDomain}. Okta needs only one: a second app means a second identity provider and client secret to keep in step. Open {sameOrg.name} instead unless you mean to replace it.
              </p>
            )}
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
    </FormDialog>
  );
}

