/** Inbound provisioning: the SCIM base URL and its bearer tokens (shown once, revocable). */
import { useState } from 'preact/hooks';
import { api, formatTime } from '../../ui/api.ts';
import { ConfirmDialog, Badge, CopyField, ErrorNote, Modal, useLoad, useToast } from '../../ui/components.tsx';
import { DataTable, type Column } from '../../ui/data-table.tsx';
import type { ScimTokenView } from '../../../server/edges/admin/views.ts';

type TokenRow = ScimTokenView;

function tokenColumns(revoke: (token: TokenRow) => void): Array<Column<TokenRow>> {
  return [
    { header: 'Name', cell: (token) => token.name },
    { header: 'Status', cell: (token) => <Badge value={token.state} /> },
    { header: 'Created', cell: (token) => formatTime(token.createdAt) },
    { header: 'Expires', cell: (token) => (token.expiresAt ? formatTime(token.expiresAt) : 'Never') },
    { header: 'Last used', cell: (token) => (token.lastUsedAt ? formatTime(token.lastUsedAt) : 'Never used') },
    {
      header: <span class="visually-hidden">Action</span>,
      class: 'actions-cell',
      cell: (token) =>
        token.state === 'active' && (
          <button type="button" class="button button-small button-danger" aria-label={`Revoke ${token.name}`} onClick={() => revoke(token)}>
            Revoke
          </button>
        ),
    },
  ];
}

export function ScimPanel({ scimUrl }: { scimUrl: string }) {
  const toast = useToast();
  const { data, error, reload } = useLoad(() => api<{ items: TokenRow[] }>('GET', '/admin/api/scim-tokens'));
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);
  return (
    <>
      <div class="card">
        <h2>Configure inbound provisioning</h2>
        <p class="muted">In Okta, add the "SCIM 2.0 Test App (OAuth Bearer Token)" and use this base URL with a bearer token from below.</p>
        <CopyField label="SCIM base URL" value={scimUrl} />
      </div>
      <div class="card">
        <div class="card-header">
          <h2>Bearer tokens for inbound SCIM</h2>
          <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
            Create token
          </button>
        </div>
        {error ? <ErrorNote error={error} /> : null}
        <DataTable
          card={false}
          caption="SCIM bearer tokens"
          what="Tokens"
          empty="No tokens yet."
          page={{ rows: data ? data.items : error ? [] : null }}
          columns={tokenColumns((token) => setRevoking(token))}
        />
      </div>
      {creating && (
        <CreateTokenDialog
          onClose={() => setCreating(false)}
          onCreated={(token) => {
            setCreating(false);
            setCreated(token);
            reload();
          }}
        />
      )}
      {created && (
        <Modal
          title="Copy your new token"
          onClose={() => setCreated(null)}
          footer={
            <button type="button" class="button button-primary" onClick={() => setCreated(null)}>
              Done
            </button>
          }
        >
          <p class="notice notice-warn">This is the only time the token is shown. Paste it into Okta's SCIM connection now.</p>
          <CopyField label="SCIM bearer token" value={created} />
        </Modal>
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke token"
          onCancel={() => (setRevoking(null), reload())}
          onConfirm={async () => {
            await api('POST', `/admin/api/scim-tokens/${revoking.id}/revoke`);
            toast(`${revoking.name} revoked`);
          }}
        >
          <p>Okta's provisioning with this token stops at once.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

function CreateTokenDialog(props: { onClose: () => void; onCreated: (token: string) => void }) {
  const [name, setName] = useState('Okta SCIM Token');
  const [days, setDays] = useState('90');
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal
      title="Create SCIM bearer token"
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" form="create-token" class="button button-primary">
            Create token
          </button>
        </>
      }
    >
      <form
        id="create-token"
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            const result = await api<{ token: string }>('POST', '/admin/api/scim-tokens', { name, expiresInDays: days === 'never' ? null : Number(days) });
            props.onCreated(result.token);
          } catch (failure) {
            setError(failure);
          }
        }}
      >
        <label class="field">
          Token name
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          Expires after
          <select value={days} onChange={(event) => setDays(event.currentTarget.value)}>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="180">180 days</option>
            <option value="365">1 year</option>
            <option value="never">Never (not recommended)</option>
          </select>
        </label>
        {error ? <ErrorNote error={error} /> : null}
      </form>
    </Modal>
  );
}

