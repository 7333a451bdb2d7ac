/** The Okta API connection that writes the registration attribute back to Okta, with a "test connection" result. */
import { useState } from 'preact/hooks';
import { api, formatTime } from '../../ui/api.ts';
import { Badge, ErrorNote, useLoad, useToast } from '../../ui/components.tsx';
import { DataTable, type Column } from '../../ui/data-table.tsx';
import { Link } from '../../ui/router.tsx';

interface OktaStatus {
  connection: { configured: boolean; domain?: string; token_owner?: string | null; configured_at?: string; check?: { ok: boolean; detail: string }; hint?: string };
  queue: { pending: number; failed: number; delivered: number };
}

export function OktaConnectionPanel({ defaultDomain }: { defaultDomain: string }) {
  const toast = useToast();
  const { data, reload } = useLoad(() => api<OktaStatus>('GET', '/admin/api/okta'));
  const [domain, setDomain] = useState<string | null>(null);
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; detail: string } | null>(null);
  const connection = data?.connection;
  // The field shows the saved connection's domain, else the app's own Okta domain.
  const shownDomain = domain ?? connection?.domain ?? defaultDomain;
  return (
    <>
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
            const saved = await api<{ token_owner: { login: string } }>('POST', '/admin/api/okta', { domain: shownDomain, token });
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
          <input required placeholder="https://dev-123456.okta.com" value={shownDomain} onInput={(event) => setDomain(event.currentTarget.value)} />
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
    {connection?.configured && <OktaSyncPanel onChange={reload} />}
    </>
  );
}

interface SyncFailure {
  identityId: string;
  userName: string | null;
  state: 'failed' | 'pending';
  error: string;
  attempts: number;
  at: string;
}

/** Deliveries of the flag that failed, each with Okta's reason and a retry; and a full reconcile. */
function OktaSyncPanel({ onChange }: { onChange: () => void }) {
  const toast = useToast();
  const failures = useLoad(() => api<{ items: SyncFailure[] }>('GET', '/admin/api/okta/failures'));
  const [reconciled, setReconciled] = useState<Record<string, unknown> | null>(null);
  const [busy, setBusy] = useState(false);
  const rows = failures.data?.items.map((failure) => ({ ...failure, id: failure.identityId })) ?? null;
  async function retry(identityId?: string) {
    try {
      const { requeued } = await api<{ requeued: number }>('POST', '/admin/api/okta/failures/retry', identityId ? { identityId } : {});
      toast(`${requeued} deliver${requeued === 1 ? 'y' : 'ies'} queued again`);
      failures.reload();
      onChange();
    } catch (error) {
      toast((error as Error).message, 'error');
    }
  }
  const columns: Array<Column<SyncFailure & { id: string }>> = [
    { header: 'Person', cell: (row) => (row.userName ? <Link href={`/admin/identities/${row.identityId}`}>{row.userName}</Link> : <span class="mono small">{row.identityId}</span>) },
    { header: 'State', cell: (row) => <Badge value={row.state === 'failed' ? 'failed' : 'pending'} label={row.state === 'failed' ? 'Failed' : `Retrying (${row.attempts})`} /> },
    { header: 'Reason', class: 'small', cell: (row) => row.error },
    { header: 'Last attempt', cell: (row) => formatTime(row.at) },
    {
      header: <span class="visually-hidden">Action</span>,
      class: 'actions-cell',
      cell: (row) =>
        row.state === 'failed' ? (
          <button type="button" class="button button-small" aria-label={`Retry ${row.userName ?? row.identityId}`} onClick={() => retry(row.identityId)}>
            Retry
          </button>
        ) : null,
    },
  ];
  return (
    <div class="card">
      <div class="card-header">
        <h2>Sync to Okta</h2>
        <div class="button-row">
          <button type="button" class="button" disabled={!rows?.some((row) => row.state === 'failed')} onClick={() => retry()}>
            Retry all failed
          </button>
          <button
            type="button"
            class="button"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                setReconciled(await api<Record<string, unknown>>('POST', '/admin/api/okta/reconcile', {}));
                failures.reload();
                onChange();
              } catch (error) {
                toast((error as Error).message, 'error');
              } finally {
                setBusy(false);
              }
            }}
          >
            {busy ? 'Reconciling…' : 'Reconcile now'}
          </button>
        </div>
      </div>
      <p class="muted">Reconcile compares every person's flag in Okta with their passkeys here and queues a correction for each difference.</p>
      {reconciled && (
        <p class="notice notice-info" role="status" data-testid="okta-reconcile-result">
          Reconciled: {Object.entries(reconciled).filter(([, value]) => typeof value === 'number').map(([key, value]) => `${key.replace(/_/g, ' ')} ${String(value)}`).join(' · ')}
        </p>
      )}
      {failures.error ? <ErrorNote error={failures.error} /> : null}
      <DataTable caption="People whose Okta flag could not be written" showCaption card={false} what="Sync failures" columns={columns} page={{ rows }} empty="Every delivery to Okta succeeded." />
    </div>
  );
}
