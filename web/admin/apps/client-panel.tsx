/** Client & endpoints: what Okta's identity provider form asks for, with a guarded secret (reveal is audited). */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { ConfirmDialog, CopyField, useToast } from '../../ui/components.tsx';
import type { AppView } from '../../../server/edges/admin/views.ts';

type AppInfo = AppView;

export function ClientPanel({ app, endpoints }: { app: AppInfo; endpoints: Record<string, string> }) {
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

