/** The Okta API connection that writes the registration attribute back to Okta, with a "test connection" result. */
import { useState } from 'preact/hooks';
import { api, formatTime } from '../../ui/api.ts';
import { Badge, ErrorNote, useLoad, useToast } from '../../ui/components.tsx';

interface OktaStatus {
  connection: { configured: boolean; domain?: string; token_owner?: string | null; configured_at?: string; check?: { ok: boolean; detail: string }; hint?: string };
  queue: { pending: number; failed: number; delivered: number };
}

export function OktaConnectionPanel({ defaultDomain }: { defaultDomain: string }) {
  const toast = useToast();
  const { data, reload } = useLoad(() => api<OktaStatus>('GET', '/admin/api/okta'));
  const [domain, setDomain] = useState(defaultDomain);
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; detail: string } | null>(null);
  const connection = data?.connection;
  return (
    <div class="card">
      <h2>Configure registration attribute for users in Okta</h2>
      <p class="muted">Latchkey sets the Okta profile attribute <code>byndidRegistered</code> when a person has a passkey, so Okta's routing rule can send them here. It needs an Okta API token (Security › API › Tokens).</p>
      {connection?.configured && (
        <p class="notice notice-info">
          Connected to <strong>{connection.domain}</strong>
          {connection.token_owner ? ` as ${connection.token_owner}` : ''} since {formatTime(connection.configured_at)}. Deliveries: {data!.queue.delivered} done, {data!.queue.pending} pending, {data!.queue.failed} failed.
        </p>
      )}
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setResult(null);
          try {
            const saved = await api<{ token_owner: { login: string } }>('POST', '/admin/api/okta', { domain, token });
            setResult({ ok: true, detail: `Connection works: token of ${saved.token_owner.login} saved (stored encrypted).` });
            setToken('');
            toast('Okta connection saved');
            reload();
          } catch (error) {
            setResult({ ok: false, detail: (error as Error).message });
          } finally {
            setBusy(false);
          }
        }}
      >
        <label class="field">
          Okta domain
          <input required placeholder="https://dev-123456.okta.com" value={domain} onInput={(event) => setDomain(event.currentTarget.value)} />
        </label>
        <label class="field">
          Okta API token
          <input required type="password" autoComplete="off" value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        </label>
        <div class="button-row">
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Testing…' : 'Test connection and save'}
          </button>
          {connection?.configured && (
            <button
              type="button"
              class="button"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  const status = await api<OktaStatus>('POST', '/admin/api/okta/test');
                  setResult(status.connection.check ?? { ok: false, detail: 'not configured' });
                } finally {
                  setBusy(false);
                }
              }}
            >
              Test saved connection
            </button>
          )}
        </div>
      </form>
      {result && (
        <p class={`notice ${result.ok ? 'notice-success' : 'notice-error'}`} role="status" data-testid="okta-test-result">
          {result.ok ? '✓ ' : '✗ '}
          {result.detail}
        </p>
      )}
    </div>
  );
}
