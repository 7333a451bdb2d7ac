/** "Add person": someone Okta does not provision (a break-glass admin, a contractor). */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { useToast } from '../../ui/components.tsx';
import { FormDialog } from '../../ui/form-dialog.tsx';
import type { IdentityView } from '../../../server/edges/admin/views.ts';

export function CreateIdentityDialog(props: { onClose: () => void; onCreated: (identity: IdentityView) => void }) {
  const toast = useToast();
  const [form, setForm] = useState({ userName: '', email: '', givenName: '', familyName: '', admin: false });
  const text = (key: 'userName' | 'email' | 'givenName' | 'familyName', label: string, extra: Record<string, unknown> = {}) => (
    <label class="field">
      {label}
      <input {...extra} value={form[key]} onInput={(event) => setForm({ ...form, [key]: event.currentTarget.value })} />
    </label>
  );
  return (
    <FormDialog
      title="Add person"
      submitLabel="Add person"
      busyLabel="Adding…"
      onClose={props.onClose}
      onSubmit={async () => {
        const { identity } = await api<{ identity: IdentityView }>('POST', '/admin/api/identities', { ...form, email: form.email || form.userName });
        toast(`${identity.userName} added`);
        props.onCreated(identity);
      }}
    >
      <p class="muted">People Okta provisions arrive by themselves over SCIM. Add someone here when Okta does not manage them.</p>
      {text('userName', 'Username', { required: true, autoComplete: 'off', placeholder: 'jane@example.com' })}
      {text('email', 'Email (if not the username)', { type: 'email', autoComplete: 'off' })}
      <div class="grid-2">
        {text('givenName', 'Given name')}
        {text('familyName', 'Family name')}
      </div>
      <label class="check">
        <input type="checkbox" checked={form.admin} onChange={(event) => setForm({ ...form, admin: event.currentTarget.checked })} /> Administrator (may use this console)
      </label>
    </FormDialog>
  );
}
