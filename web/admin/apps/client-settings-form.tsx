/** Client authentication (secret or private_key_jwt with the client's public keys) and post-logout redirect URIs. */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { useToast } from '../../ui/components.tsx';
import type { AppView } from '../../../server/edges/admin/views.ts';

export function ClientSettingsForm({ app, onSaved }: { app: AppView; onSaved: (app: AppView, clientSecret: string | null) => void }) {
  const toast = useToast();
  const [method, setMethod] = useState(app.tokenEndpointAuthMethod);
  const [jwksUri, setJwksUri] = useState(app.jwksUri ?? '');
  const [jwks, setJwks] = useState(app.jwks ? JSON.stringify(app.jwks, null, 2) : '');
  const [logoutUris, setLogoutUris] = useState(app.postLogoutRedirectUris.join('\n'));
  return (
    <form
      class="stack"
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          const result = await api<{ app: AppView; clientSecret?: string }>('PUT', `/admin/api/apps/${app.id}/client`, {
            tokenEndpointAuthMethod: method,
            ...(method === 'private_key_jwt' ? (jwksUri.trim() ? { jwksUri: jwksUri.trim() } : { jwks }) : {}),
            postLogoutRedirectUris: logoutUris.split('\n').map((uri) => uri.trim()).filter(Boolean),
          });
          toast(result.clientSecret ? 'Saved: a new client secret was created, paste it into Okta' : 'Client settings saved');
          onSaved(result.app, result.clientSecret ?? null);
        } catch (error) {
          toast((error as Error).message, 'error');
        }
      }}
    >
      <h2>Client authentication and logout</h2>
      <label class="field">
        Client authentication
        <select value={method} onChange={(event) => setMethod(event.currentTarget.value as AppView['tokenEndpointAuthMethod'])}>
          <option value="client_secret_basic">Client secret</option>
          <option value="private_key_jwt">Private key JWT (the client's public key)</option>
        </select>
      </label>
      {method === 'private_key_jwt' && (
        <>
          <label class="field">
            JWKS URI (where the client publishes its public keys)
            <input class="mono" type="url" value={jwksUri} onInput={(event) => setJwksUri(event.currentTarget.value)} />
          </label>
          <label class="field">
            Or the public JWKS itself (JSON, e.g. the key Okta generated for the identity provider)
            <textarea class="mono" rows={6} value={jwks} disabled={Boolean(jwksUri.trim())} onInput={(event) => setJwks(event.currentTarget.value)} />
          </label>
        </>
      )}
      <label class="field">
        Post-logout redirect URIs (one per line)
        <textarea class="mono" rows={3} value={logoutUris} onInput={(event) => setLogoutUris(event.currentTarget.value)} />
      </label>
      <button type="submit" class="button">
        Save client settings
      </button>
    </form>
  );
}
