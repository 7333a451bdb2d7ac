/**
 * What an admin can do to an account as a whole: the admin role (Latchkey's own), deactivate or
 * reactivate (ends every session at once), and delete, which Okta owns for people it provisioned.
 */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { ConfirmDialog, useToast } from '../../ui/components.tsx';
import { navigate } from '../../ui/router.tsx';
import type { IdentityView } from '../../../server/edges/admin/views.ts';

export function AccountActions({ identity, onChange }: { identity: IdentityView; onChange: () => void }) {
  const toast = useToast();
  const [confirm, setConfirm] = useState<'deactivate' | 'delete' | null>(null);
  const isAdmin = identity.roles.includes('admin');
  async function run(action: () => Promise<unknown>, done: string) {
    try {
      await action();
      toast(done);
      onChange();
    } catch (failure) {
      toast((failure as Error).message, 'error');
    }
  }
  return (
    <>
      <button type="button" class="button" onClick={() => run(() => api('PUT', `/admin/api/identities/${identity.id}/admin`, { admin: !isAdmin }), isAdmin ? `${identity.userName} is no longer an admin` : `${identity.userName} is now an admin`)}>
        {isAdmin ? 'Revoke admin role' : 'Make admin'}
      </button>
      {identity.active ? (
        <button type="button" class="button" onClick={() => setConfirm('deactivate')}>
          Deactivate
        </button>
      ) : (
        <button type="button" class="button" onClick={() => run(() => api('PATCH', `/admin/api/identities/${identity.id}`, { active: true }), `${identity.userName} reactivated`)}>
          Reactivate
        </button>
      )}
      {!identity.scimManaged && (
        <button type="button" class="button button-danger" onClick={() => setConfirm('delete')}>
          Delete
        </button>
      )}
      {confirm === 'deactivate' && (
        <ConfirmDialog
          title={`Deactivate ${identity.name}?`}
          confirmLabel="Deactivate"
          onCancel={() => (setConfirm(null), onChange())}
          onConfirm={async () => {
            await api('PATCH', `/admin/api/identities/${identity.id}`, { active: false });
            toast(`${identity.userName} deactivated`);
          }}
        >
          <p>They are signed out everywhere at once and cannot sign in until reactivated. Their passkeys are kept.</p>
          {identity.scimManaged && <p class="notice notice-info">Okta provisioned this person: Okta's next update of them may reactivate the account. To keep them out, deactivate or unassign them in Okta.</p>}
        </ConfirmDialog>
      )}
      {confirm === 'delete' && (
        <ConfirmDialog
          title={`Delete ${identity.name}?`}
          confirmLabel="Delete person"
          onCancel={() => setConfirm(null)}
          onConfirm={async () => {
            await api('DELETE', `/admin/api/identities/${identity.id}`);
            toast(`${identity.userName} deleted`);
            navigate('/admin/identities');
          }}
        >
          <p>Their passkeys, sessions and group memberships go with them. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
