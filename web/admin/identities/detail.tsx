/** One person's page: passkeys (model, synced or device-bound, attested, meets the passkey policy, revoke), recent enrollment links, profile and groups. */
import { useState } from 'preact/hooks';
import { api, formatTime } from '../../ui/api.ts';
import { Badge, ConfirmDialog, ErrorNote, Loading, useLoad, useToast } from '../../ui/components.tsx';
import { DataTable, type Column } from '../../ui/data-table.tsx';
import { Page } from '../../ui/page.tsx';
import { AuthenticatorModel } from '../../ui/authenticator-model.tsx';
import type { IdentityDetailView } from '../../../server/edges/admin/views.ts';
import { ProfilePanel } from './profile-panel.tsx';
import { AddPasskeyDialog } from './add-passkey-dialog.tsx';
import { AccountActions } from './account-actions.tsx';
import { REASON_LABELS } from '../policy.tsx';

type PasskeyRow = IdentityDetailView['passkeys'][number];

function passkeyColumns(revoke: (passkey: PasskeyRow) => void): Array<Column<PasskeyRow>> {
  return [
    { header: 'Name', cell: (passkey) => passkey.name },
    { header: 'Authenticator', cell: (passkey) => <AuthenticatorModel name={passkey.model} icon={passkey.modelIcon} /> },
    { header: 'Kind', cell: (passkey) => (passkey.synced ? 'Synced' : 'Device-bound') },
    { header: 'Attestation', cell: (passkey) => (passkey.attested ? `Verified (${passkey.attestationFormat})` : passkey.attestationFormat === 'none' ? 'None' : `Not verified (${passkey.attestationFormat})`) },
    {
      header: 'Policy',
      cell: (passkey) => (passkey.meetsPolicy ? <Badge value="success" label="Meets policy" /> : <Badge value="failure" label={`Refused: ${passkey.policyReasons.map((reason) => REASON_LABELS[reason]).join(', ')}`} />),
    },
    { header: 'Created', cell: (passkey) => formatTime(passkey.createdAt) },
    { header: 'Last used', cell: (passkey) => (passkey.lastUsedAt ? formatTime(passkey.lastUsedAt) : 'Never') },
    {
      header: <span class="visually-hidden">Action</span>,
      class: 'actions-cell',
      cell: (passkey) => (
        <button type="button" class="button button-small button-danger" aria-label={`Revoke passkey ${passkey.name}`} onClick={() => revoke(passkey)}>
          Revoke
        </button>
      ),
    },
  ];
}

type IdentityDetail = IdentityDetailView;

export function IdentityDetailPage({ id }: { id: string }) {
  const toast = useToast();
  const { data, error, reload } = useLoad(() => api<IdentityDetail>('GET', `/admin/api/identities/${encodeURIComponent(id)}`), [id]);
  const [tab, setTab] = useState<'profile' | 'passkeys'>('passkeys');
  const [revoking, setRevoking] = useState<IdentityDetail['passkeys'][number] | null>(null);
  const [adding, setAdding] = useState(false);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="identity" />;
  const { identity } = data;
  return (
    <Page
      crumbs={[{ href: '/admin/identities', label: 'Identities' }]}
      current={identity.userName}
      title={identity.name}
      intro={
        <p>
          {identity.userName} · <Badge value={identity.enrollmentStatus} /> {identity.active ? <Badge value="active" /> : <Badge value="deactivated" />}
          {identity.roles.includes('admin') && <span class="tag">Admin</span>}
        </p>
      }
      actions={
        <>
          <AccountActions identity={identity} onChange={reload} />
          <button type="button" class="button button-primary" onClick={() => setAdding(true)}>
            Add passkey
          </button>
        </>
      }
    >
      {identity.scimManaged && (
        <p class="notice notice-info" role="note">
          Okta provisioned this person over SCIM, so Okta owns their profile, groups and deletion: change those in Okta. Passkeys, enrollment links and the admin role are managed here.
        </p>
      )}
      <div class="tabs" role="tablist" aria-label="Identity details">
        {(['passkeys', 'profile'] as const).map((name) => (
          <button key={name} type="button" role="tab" class="tab" id={`tab-${name}`} aria-selected={tab === name} aria-controls="identity-panel" onClick={() => setTab(name)}>
            {name === 'passkeys' ? `Passkeys (${data.passkeys.length})` : 'Profile & groups'}
          </button>
        ))}
      </div>
      <div id="identity-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} class="tab-panel">
        {tab === 'passkeys' ? (
          <div class="card table-card">
            <DataTable
              card={false}
              caption={`Passkeys of ${identity.userName}`}
              what="Passkeys"
              empty='No passkey yet. Use "Add passkey" to send an enrollment email or generate a link.'
              page={{ rows: data.passkeys }}
              columns={passkeyColumns((passkey) => setRevoking(passkey))}
            />
            {data.invites.length > 0 && (
              <div class="card-footer">
                <h2>Recent enrollment links</h2>
                <ul class="plain-list small">
                  {data.invites.map((invite) => (
                    <li key={invite.id}>
                      {invite.delivery === 'email' ? 'Email' : 'Link'} created {formatTime(invite.createdAt)} ·{' '}
                      {invite.spentAt ? 'used' : invite.revokedAt ? 'replaced or revoked' : `expires ${formatTime(invite.expiresAt)}`}
                      {invite.sendState ? ` · ${invite.sendState}` : ''}
                      {invite.sendError ? ` (${invite.sendError})` : ''}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </div>
        ) : (
          <ProfilePanel detail={data} onChange={reload} />
        )}
      </div>
      {revoking && (
        <ConfirmDialog
          title={`Revoke passkey "${revoking.name}"?`}
          confirmLabel="Revoke passkey"
          onCancel={() => (setRevoking(null), reload())}
          onConfirm={async () => {
            await api('POST', `/admin/api/identities/${identity.id}/passkeys/${encodeURIComponent(revoking.id)}/revoke`);
            toast(`Passkey "${revoking.name}" revoked`);
          }}
        >
          <p>{identity.name} can no longer sign in with this passkey.{data.passkeys.length === 1 ? ' It is their only passkey: they will need a new enrollment link.' : ''}</p>
        </ConfirmDialog>
      )}
      {adding && <AddPasskeyDialog identity={identity} onClose={() => (setAdding(false), reload())} />}
    </Page>
  );
}

