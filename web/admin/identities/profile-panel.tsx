/** An identity's profile (read-only while Okta owns it over SCIM) and its groups. */
import { useState } from 'preact/hooks';
import { api, formatTime } from '../../ui/api.ts';
import { useToast } from '../../ui/components.tsx';
import { Link } from '../../ui/router.tsx';
import type { IdentityDetailView } from '../../../server/edges/admin/views.ts';
import { CREATED_BY } from '../sources.ts';

type IdentityDetail = IdentityDetailView;

export function ProfilePanel({ detail, onChange }: { detail: IdentityDetail; onChange: () => void }) {
  const toast = useToast();
  const { identity } = detail;
  const [form, setForm] = useState({ givenName: identity.givenName ?? '', familyName: identity.familyName ?? '', displayName: identity.displayName ?? '', email: identity.email });
  const readOnly = identity.scimManaged;
  const field = (key: keyof typeof form, label: string) => (
    <label class="field">
      {label}
      <input readOnly={readOnly} value={form[key]} onInput={(event) => setForm({ ...form, [key]: event.currentTarget.value })} />
    </label>
  );
  return (
    <div class="grid-2">
      <div class="card">
        <h2>Profile</h2>
        {readOnly && <p class="notice notice-info">Okta provisioned this profile over SCIM: change these attributes in Okta.</p>}
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              await api('PATCH', `/admin/api/identities/${identity.id}`, { ...form, givenName: form.givenName || null, familyName: form.familyName || null, displayName: form.displayName || null });
              toast('Profile saved');
              onChange();
            } catch (error) {
              toast((error as Error).message, 'error');
            }
          }}
        >
          <label class="field">
            Username
            <input readOnly value={identity.userName} />
          </label>
          {field('email', 'Email')}
          {field('givenName', 'Given name')}
          {field('familyName', 'Family name')}
          {field('displayName', 'Display name')}
          {!readOnly && (
            <button type="submit" class="button button-primary">
              Save profile
            </button>
          )}
        </form>
        <dl class="facts">
          <dt>Created</dt>
          <dd>
            {formatTime(identity.createdAt)} · {CREATED_BY[identity.source]}
          </dd>
          <dt>Identity id (OIDC sub)</dt>
          <dd class="mono small">{identity.id}</dd>
          {identity.externalId && (
            <>
              <dt>Okta external id</dt>
              <dd class="mono small">{identity.externalId}</dd>
            </>
          )}
        </dl>
      </div>
      <div class="card">
        <h2>Groups</h2>
        {detail.groups.length === 0 ? (
          <p class="muted">Not a member of any group.</p>
        ) : (
          <ul class="chip-list" aria-label="Groups">
            {detail.groups.map((group) => (
              <li key={group.id} class="chip">
                <Link href={`/admin/groups/${group.id}`}>{group.displayName}</Link>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

