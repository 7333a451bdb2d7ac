/**
 * Identities: a server-paged, searchable table (fast on 10,000+ people) with enrollment-status and
 * group filters, multi-select and the bulk "Add passkey(s)" email; and each identity's page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, formatTime, query } from '../ui/api.ts';
import { TableMessage, ConfirmDialog, Badge, CopyField, ErrorNote, Loading, Modal, Pager, useLoad, useToast } from '../ui/components.tsx';
import { Link } from './router.tsx';
import type { BulkInviteResult, IdentityDetailView, IdentityView } from '../../server/edges/admin/views.ts';

export type IdentityRow = IdentityView;

const PAGE_SIZE = 25;

export function IdentitiesPage() {
  const params = new URLSearchParams(window.location.search);
  const [search, setSearch] = useState(params.get('search') ?? '');
  const [debounced, setDebounced] = useState(search);
  const [status, setStatus] = useState(params.get('status') ?? '');
  const [group, setGroup] = useState(params.get('group') ?? '');
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<Map<string, IdentityRow>>(new Map());
  const [sending, setSending] = useState(false);

  useEffect(() => {
    const timer = setTimeout(() => setDebounced(search), 250);
    return () => clearTimeout(timer);
  }, [search]);
  useEffect(() => setOffset(0), [debounced, status, group]);
  useEffect(() => {
    window.history.replaceState(null, '', `/admin/identities${query({ search: debounced, status, group })}`);
  }, [debounced, status, group]);

  const groups = useLoad(() => api<{ items: Array<{ id: string; displayName: string }> }>('GET', '/admin/api/groups?limit=200'));
  const { data, error, reload } = useLoad(
    () => api<{ total: number; items: IdentityRow[] }>('GET', `/admin/api/identities${query({ search: debounced, status, group, offset, limit: PAGE_SIZE })}`),
    [debounced, status, group, offset],
  );
  const items = data?.items ?? [];
  const allOnPage = items.length > 0 && items.every((row) => selected.has(row.id));

  function toggle(row: IdentityRow, on: boolean) {
    setSelected((current) => {
      const next = new Map(current);
      if (on) next.set(row.id, row);
      else next.delete(row.id);
      return next;
    });
  }

  return (
    <section aria-labelledby="page-title">
      <div class="page-header">
        <div>
          <h1 id="page-title">Identities</h1>
          <p class="muted">People provisioned by Okta over SCIM or created here. Send enrollment emails so they can create a passkey.</p>
        </div>
        <button type="button" class="button button-primary" disabled={selected.size === 0} onClick={() => setSending(true)}>
          Add passkey(s){selected.size > 0 ? ` (${selected.size})` : ''}
        </button>
      </div>
      <div class="filters" role="search" aria-label="Filter identities">
        <label class="field field-inline grow">
          Search
          <input type="search" placeholder="Name, username or email" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
        </label>
        <label class="field field-inline">
          Enrollment status
          <select value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
            <option value="">Any status</option>
            <option value="unenrolled">Unenrolled</option>
            <option value="pending">Pending</option>
            <option value="enrolled">Enrolled</option>
          </select>
        </label>
        <label class="field field-inline">
          Group
          <select value={group} onChange={(event) => setGroup(event.currentTarget.value)}>
            <option value="">Any group</option>
            {(groups.data?.items ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.displayName}
              </option>
            ))}
          </select>
        </label>
      </div>
      {selected.size > 0 && (
        <p class="selection-bar" role="status">
          {selected.size} selected{' '}
          <button type="button" class="link-button" onClick={() => setSelected(new Map())}>
            Clear selection
          </button>
        </p>
      )}
      {error ? <ErrorNote error={error} /> : null}
      <div class="card table-card">
        <table>
          <caption class="visually-hidden">Identities</caption>
          <thead>
            <tr>
              <th scope="col" class="check-cell">
                <input
                  type="checkbox"
                  aria-label="Select all identities on this page"
                  checked={allOnPage}
                  onChange={(event) => {
                    const on = event.currentTarget.checked;
                    for (const row of items) toggle(row, on);
                  }}
                />
              </th>
              <th scope="col">Name</th>
              <th scope="col">Username</th>
              <th scope="col">Email</th>
              <th scope="col">Enrollment</th>
              <th scope="col">Account</th>
            </tr>
          </thead>
          <tbody>
            <TableMessage columns={6} loading={data ? undefined : 'identities'} empty={data && items.length === 0 ? 'No identity matches these filters.' : undefined} />
            {items.map((row) => (
              <tr key={row.id} class={selected.has(row.id) ? 'selected' : ''}>
                <td class="check-cell">
                  <input type="checkbox" aria-label={`Select ${row.userName}`} checked={selected.has(row.id)} onChange={(event) => toggle(row, event.currentTarget.checked)} />
                </td>
                <td>
                  <Link href={`/admin/identities/${row.id}`}>{row.name}</Link>
                  {row.roles.includes('admin') && <span class="tag">Admin</span>}
                </td>
                <td>{row.userName}</td>
                <td>{row.email}</td>
                <td>
                  <Badge value={row.enrollmentStatus} />
                </td>
                <td>{row.active ? <Badge value="active" /> : <Badge value="deactivated" />}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && <Pager offset={offset} limit={PAGE_SIZE} total={data.total} onChange={setOffset} what="Identities" />}
      </div>
      {sending && (
        <BulkSendDialog
          people={[...selected.values()]}
          onClose={() => {
            setSending(false);
            setSelected(new Map());
            reload();
          }}
        />
      )}
    </section>
  );
}

type BulkResult = BulkInviteResult;

/** Queues one invitation email per person, then follows their delivery until each is sent or failed. */
function BulkSendDialog({ people, onClose }: { people: IdentityRow[]; onClose: () => void }) {
  const [results, setResults] = useState<BulkResult[] | null>(null);
  const [states, setStates] = useState<Map<string, { sendState: string; sendError: string | null }>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const timer = useRef<number | null>(null);

  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  async function poll(ids: string[]) {
    const { items } = await api<{ items: Array<{ id: string; sendState: string; sendError: string | null }> }>('GET', `/admin/api/invites/status?ids=${ids.join(',')}`);
    const next = new Map(items.map((item) => [item.id, item]));
    setStates(next);
    if (items.some((item) => item.sendState === 'queued')) timer.current = window.setTimeout(() => poll(ids), 1000);
  }

  async function send() {
    try {
      const response = await api<{ results: BulkResult[] }>('POST', '/admin/api/invites/bulk', { identityIds: people.map((person) => person.id) });
      setResults(response.results);
      const ids = response.results.filter((result) => result.inviteId).map((result) => result.inviteId!);
      if (ids.length) await poll(ids);
    } catch (failure) {
      setError(failure);
    }
  }

  const queued = results?.filter((result) => result.outcome === 'queued') ?? [];
  const sent = queued.filter((result) => states.get(result.inviteId!)?.sendState === 'sent').length;
  const failed = queued.filter((result) => states.get(result.inviteId!)?.sendState === 'failed').length + (results?.filter((result) => result.outcome === 'refused').length ?? 0);
  const done = results !== null && sent + failed === results.length;
  const outcomeOf = (result: BulkResult) => (result.outcome === 'refused' ? 'refused' : (states.get(result.inviteId!)?.sendState ?? 'queued'));

  return (
    <Modal
      title="Add passkey(s)"
      wide
      onClose={onClose}
      footer={
        results === null ? (
          <>
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="button" class="button button-primary" onClick={send}>
              Send {people.length} enrollment email{people.length === 1 ? '' : 's'}
            </button>
          </>
        ) : (
          <button type="button" class="button button-primary" onClick={onClose}>
            {done ? 'Done' : 'Close (sending continues)'}
          </button>
        )
      }
    >
      {results === null ? (
        <p>
          Each selected person gets an email with a personal enrollment link. A newer link replaces any older one they have. Recipients: {people.slice(0, 5).map((person) => person.userName).join(', ')}
          {people.length > 5 ? ` and ${people.length - 5} more` : ''}.
        </p>
      ) : (
        <>
          <div class="progress-summary">
            <progress max={results.length} value={sent + failed} aria-label="Sending progress" />
            <span role="status" aria-live="polite" data-testid="bulk-progress">
              {sent} sent · {failed} failed · {results.length - sent - failed} waiting
            </span>
          </div>
          <table>
            <caption class="visually-hidden">Result per person</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Email</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {results.map((result) => (
                <tr key={result.identityId}>
                  <td>{result.userName ?? result.identityId}</td>
                  <td>{result.email ?? '—'}</td>
                  <td>
                    <Badge value={outcomeOf(result)} />
                    {(result.reason || states.get(result.inviteId ?? '')?.sendError) && <span class="small muted"> {result.reason ?? states.get(result.inviteId!)?.sendError}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {error ? <ErrorNote error={error} /> : null}
    </Modal>
  );
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
    <section aria-labelledby="page-title">
      <p class="breadcrumb">
        <Link href="/admin/identities">Identities</Link> › {identity.userName}
      </p>
      <div class="page-header">
        <div>
          <h1 id="page-title">{identity.name}</h1>
          <p class="muted">
            {identity.userName} · <Badge value={identity.enrollmentStatus} /> {identity.active ? <Badge value="active" /> : <Badge value="deactivated" />}
            {identity.roles.includes('admin') && <span class="tag">Admin</span>}
          </p>
        </div>
        <button type="button" class="button button-primary" onClick={() => setAdding(true)}>
          Add passkey
        </button>
      </div>
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
            <table>
              <caption class="visually-hidden">Passkeys of {identity.userName}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Authenticator</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <TableMessage columns={6} empty={data.passkeys.length === 0 ? 'No passkey yet. Use "Add passkey" to send an enrollment email or generate a link.' : undefined} />
                {data.passkeys.map((passkey) => (
                  <tr key={passkey.id}>
                    <td>{passkey.name}</td>
                    <td>{passkey.model ?? 'Unknown model'}</td>
                    <td>{passkey.synced ? 'Synced' : 'Device-bound'}</td>
                    <td>{formatTime(passkey.createdAt)}</td>
                    <td>{passkey.lastUsedAt ? formatTime(passkey.lastUsedAt) : 'Never'}</td>
                    <td class="actions-cell">
                      <button type="button" class="button button-small button-danger" aria-label={`Revoke passkey ${passkey.name}`} onClick={() => setRevoking(passkey)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.invites.length > 0 && (
              <div class="card-footer">
                <h3>Recent enrollment links</h3>
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
    </section>
  );
}

function ProfilePanel({ detail, onChange }: { detail: IdentityDetail; onChange: () => void }) {
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
        {readOnly && <p class="notice notice-info">Managed by Okta over SCIM: change these attributes in Okta.</p>}
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
          <dd>{formatTime(identity.createdAt)}</dd>
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

function AddPasskeyDialog({ identity, onClose }: { identity: IdentityRow; onClose: () => void }) {
  const toast = useToast();
  const [how, setHow] = useState<'email' | 'link'>('email');
  const [ttl, setTtl] = useState('168');
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal
      title="Add passkey"
      onClose={onClose}
      footer={
        link ? (
          <button type="button" class="button button-primary" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" class="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" form="add-passkey" class="button button-primary">
              {how === 'email' ? 'Send email' : 'Generate link'}
            </button>
          </>
        )
      }
    >
      {link ? (
        <>
          <p>Give this link to {identity.name} over a channel you trust. It works once.</p>
          <CopyField label="Enrollment link" value={link.url} />
          <p class="muted">Expires {formatTime(link.expiresAt)}.</p>
        </>
      ) : (
        <form
          id="add-passkey"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              const result = await api<{ url?: string; expiresAt: string; to?: string }>('POST', `/admin/api/identities/${identity.id}/invite`, { delivery: how, ttlHours: Number(ttl) });
              if (how === 'link') setLink({ url: result.url!, expiresAt: result.expiresAt });
              else {
                toast(`Enrollment email queued for ${result.to}`);
                onClose();
              }
            } catch (failure) {
              setError(failure);
            }
          }}
        >
          <fieldset class="choice-group">
            <legend>How should {identity.name} get the enrollment link?</legend>
            <label class={`choice ${how === 'email' ? 'choice-selected' : ''}`}>
              <input type="radio" name="how" checked={how === 'email'} onChange={() => setHow('email')} />
              <span>
                <strong>Send email</strong>
                <small>to {identity.email}</small>
              </span>
            </label>
            <label class={`choice ${how === 'link' ? 'choice-selected' : ''}`}>
              <input type="radio" name="how" checked={how === 'link'} onChange={() => setHow('link')} />
              <span>
                <strong>Generate link</strong>
                <small>to copy and hand over yourself</small>
              </span>
            </label>
          </fieldset>
          <label class="field">
            Link expires after
            <select value={ttl} onChange={(event) => setTtl(event.currentTarget.value)}>
              <option value="1">1 hour</option>
              <option value="24">1 day</option>
              <option value="168">7 days</option>
              <option value="336">14 days</option>
            </select>
          </label>
          {error ? <ErrorNote error={error} /> : null}
        </form>
      )}
    </Modal>
  );
}
