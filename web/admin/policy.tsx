/**
 * Passkey policy: which passkeys the organisation accepts, for everyone and per group. Every change
 * is previewed first (who would be refused), then saved; people already refused are listed below.
 */
import { useState } from 'preact/hooks';
import { api } from '../ui/api.ts';
import { Badge, ConfirmDialog, ErrorNote, Loading, useLoad, useToast } from '../ui/components.tsx';
import { DataTable, type Column } from '../ui/data-table.tsx';
import { FormDialog } from '../ui/form-dialog.tsx';
import { Page } from '../ui/page.tsx';
import { Link } from '../ui/router.tsx';
import type { AffectedReport, AuthenticatorPolicy, PolicyChangeView, PolicyOverride, PolicyOverrideView, PolicyReason, PolicyView } from '../../server/edges/admin/views.ts';

type Person = AffectedReport['people'][number];

export const REASON_LABELS: Record<PolicyReason, string> = {
  synced_not_allowed: 'synced',
  model_not_allowed: 'model not on the allow list',
  model_blocked: 'model blocked',
  attestation_required: 'not attested',
};

function describeSynced(value: AuthenticatorPolicy['syncedPasskeys'] | undefined) {
  return value === undefined ? 'As the deployment' : value === 'deny' ? 'Device-bound only' : 'Synced allowed';
}
function describeModels(value: AuthenticatorPolicy['aaguids'] | undefined) {
  if (value === undefined) return 'As the deployment';
  if (value.mode === 'any') return 'Any model';
  return `${value.mode === 'allow' ? 'Only' : 'All but'} ${value.aaguids.length} model${value.aaguids.length === 1 ? '' : 's'}: ${value.aaguids.join(', ')}`;
}
function describeAttestation(value: boolean | undefined) {
  return value === undefined ? 'As the deployment' : value ? 'Required' : 'Not required';
}

const affectedColumns: Array<Column<Person & { id: string }>> = [
  { header: 'Person', cell: (person) => <Link href={`/admin/identities/${person.identityId}`}>{person.name}</Link> },
  { header: 'Username', cell: (person) => person.userName + (person.admin ? ' (admin)' : '') },
  { header: 'Refused passkeys', cell: (person) => person.passkeys.map((passkey) => `${passkey.name} (${passkey.reasons.map((reason) => REASON_LABELS[reason]).join(', ')})`).join('; ') },
  { header: 'Can still sign in', cell: (person) => (person.lockedOut ? <Badge value="failure" label="No: needs a new passkey" /> : <Badge value="success" label={`Yes, with ${person.compliantPasskeys} other`} />) },
];

function AffectedTable({ report, caption }: { report: AffectedReport; caption: string }) {
  return (
    <>
      <p>
        {report.totals.people === 0
          ? 'Nobody holds a passkey it refuses.'
          : `${report.totals.people} ${report.totals.people === 1 ? 'person holds' : 'people hold'} ${report.totals.passkeys} passkey${report.totals.passkeys === 1 ? '' : 's'} it refuses; ${report.totals.lockedOut} could no longer sign in at all${report.totals.admins ? `, ${report.totals.admins} of them administrators` : ''}.`}
      </p>
      {report.totals.people > 0 && <DataTable caption={caption} showCaption what="People" columns={affectedColumns} page={{ rows: report.people.map((person) => ({ ...person, id: person.identityId })) }} empty="Nobody." />}
    </>
  );
}

interface Form {
  group: string;
  synced: 'allow' | 'deny' | 'inherit';
  models: 'any' | 'allow' | 'block' | 'inherit';
  aaguids: string;
  attestation: 'true' | 'false' | 'inherit';
}

function formOf(policy: PolicyOverride, group: string | null): Form {
  const inherit = group !== null;
  return {
    group: group ?? '',
    synced: policy.syncedPasskeys ?? (inherit ? 'inherit' : 'allow'),
    models: policy.aaguids?.mode ?? (inherit ? 'inherit' : 'any'),
    aaguids: policy.aaguids && policy.aaguids.mode !== 'any' ? policy.aaguids.aaguids.join('\n') : '',
    attestation: policy.requireAttestation === undefined ? (inherit ? 'inherit' : 'false') : policy.requireAttestation ? 'true' : 'false',
  };
}

function bodyOf(form: Form, forGroup: boolean) {
  return {
    ...(forGroup ? { group: form.group.trim() } : {}),
    syncedPasskeys: form.synced,
    aaguids: form.models === 'allow' || form.models === 'block' ? { mode: form.models, aaguids: form.aaguids.split(/[\s,]+/).filter(Boolean) } : { mode: form.models },
    requireAttestation: form.attestation === 'inherit' ? 'inherit' : form.attestation === 'true',
  };
}

function Choices<K extends string>(props: { legend: string; name: string; value: K; options: Array<[K, string, string]>; onChange: (value: K) => void }) {
  return (
    <fieldset class="choice-group">
      <legend>{props.legend}</legend>
      {props.options.map(([value, label, hint]) => (
        <label key={value} class={`choice ${props.value === value ? 'choice-selected' : ''}`}>
          <input type="radio" name={props.name} checked={props.value === value} onChange={() => props.onChange(value)} />
          <span>
            <strong>{label}</strong>
            <small>{hint}</small>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

/** Edit the deployment policy or one group's override: Preview first, then Save. */
function PolicyDialog(props: { scope: 'deployment' | 'group'; initial: Form; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const forGroup = props.scope === 'group';
  const [form, setFormState] = useState<Form>(props.initial);
  const [preview, setPreview] = useState<PolicyChangeView | null>(null);
  const setForm = (next: Form) => (setFormState(next), setPreview(null));
  const inherit: Array<['inherit', string, string]> = forGroup ? [['inherit', 'As the deployment', 'inherit the deployment policy’s setting']] : [];
  return (
    <FormDialog
      title={forGroup ? (props.initial.group ? `Passkey policy for ${props.initial.group}` : 'Add a group override') : 'Deployment passkey policy'}
      submitLabel={preview ? 'Save policy' : 'Preview'}
      busyLabel={preview ? 'Saving…' : 'Checking who is affected…'}
      wide
      onClose={props.onClose}
      onSubmit={async () => {
        if (!preview) {
          setPreview(await api<PolicyChangeView>('POST', '/admin/api/policy/preview', bodyOf(form, forGroup)));
          return;
        }
        await api<PolicyChangeView>('PUT', '/admin/api/policy', bodyOf(form, forGroup));
        toast('Passkey policy saved');
        props.onSaved();
      }}
    >
      {forGroup && (
        <label class="field">
          Group name
          <input required maxLength={256} value={form.group} readOnly={Boolean(props.initial.group)} onInput={(event) => setForm({ ...form, group: event.currentTarget.value })} />
        </label>
      )}
      <Choices
        legend="Synced passkeys"
        name="synced"
        value={form.synced}
        onChange={(synced) => setForm({ ...form, synced })}
        options={[['allow', 'Allow', 'iCloud Keychain, Google Password Manager and password managers'], ['deny', 'Device-bound only', 'security keys, Windows Hello: the passkey never leaves the device'], ...inherit]}
      />
      <Choices
        legend="Authenticator models"
        name="models"
        value={form.models}
        onChange={(models) => setForm({ ...form, models })}
        options={[['any', 'Any model', 'no list'], ['allow', 'Only these', 'an allow list of AAGUIDs'], ['block', 'All but these', 'a block list of AAGUIDs'], ...inherit]}
      />
      {(form.models === 'allow' || form.models === 'block') && (
        <label class="field">
          AAGUIDs (one per line)
          <textarea required rows={4} value={form.aaguids} onInput={(event) => setForm({ ...form, aaguids: event.currentTarget.value })} placeholder="cb69481e-8ff7-4039-93ec-0a2729a154a8" />
        </label>
      )}
      <Choices
        legend="Verified attestation"
        name="attestation"
        value={form.attestation}
        onChange={(attestation) => setForm({ ...form, attestation })}
        options={[['false', 'Not required', 'any authenticator may enroll'], ['true', 'Required', 'the authenticator must prove its model (FIDO metadata)'], ...inherit]}
      />
      {preview && (
        <section class="policy-preview" aria-label="Who this change affects">
          <h2>Before you save</h2>
          <AffectedTable report={preview.affected} caption="People this policy would refuse" />
          <p class="muted">People refused at sign-in see what kind of passkey is required and are told to ask for a new enrollment link. Sessions already open stay open until they end.</p>
        </section>
      )}
    </FormDialog>
  );
}

export function PolicyPage() {
  const toast = useToast();
  const { data, error, reload } = useLoad(() => api<PolicyView>('GET', '/admin/api/policy'), []);
  const affected = useLoad(() => api<AffectedReport>('GET', '/admin/api/policy/affected'), [data]);
  const [editing, setEditing] = useState<{ scope: 'deployment' | 'group'; initial: Form } | null>(null);
  const [clearing, setClearing] = useState<PolicyOverrideView | null>(null);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="passkey policy" />;
  const overrideColumns: Array<Column<PolicyOverrideView & { id: string }>> = [
    { header: 'Group', cell: (row) => (row.group ? <Link href={`/admin/groups/${row.groupId}`}>{row.group}</Link> : `Deleted group (${row.groupId})`) },
    { header: 'Synced passkeys', cell: (row) => describeSynced(row.override.syncedPasskeys) },
    { header: 'Models', cell: (row) => describeModels(row.override.aaguids) },
    { header: 'Attestation', cell: (row) => describeAttestation(row.override.requireAttestation) },
    {
      header: <span class="visually-hidden">Actions</span>,
      class: 'actions-cell',
      cell: (row) => (
        <>
          {row.group && (
            <button type="button" class="button button-small" aria-label={`Edit the override of ${row.group}`} onClick={() => setEditing({ scope: 'group', initial: formOf(row.override, row.group) })}>
              Edit
            </button>
          )}{' '}
          <button type="button" class="button button-small button-danger" aria-label={`Remove the override of ${row.group ?? row.groupId}`} onClick={() => setClearing(row)}>
            Remove
          </button>
        </>
      ),
    },
  ];
  const close = () => (setEditing(null), setClearing(null), reload());
  return (
    <Page
      title="Passkey policy"
      intro={
        <p>
          Which passkeys people may enroll and sign in with. A group override replaces the settings it names for that group’s members; someone in several groups with overrides gets the strictest combination of them.
        </p>
      }
      actions={
        <>
          <button type="button" class="button" onClick={() => setEditing({ scope: 'group', initial: formOf({}, '') })}>
            Add group override
          </button>
          <button type="button" class="button button-primary" onClick={() => setEditing({ scope: 'deployment', initial: formOf(data.deployment, null) })}>
            Edit deployment policy
          </button>
        </>
      }
    >
      <div class="card">
        <h2>Everyone</h2>
        <dl class="facts">
          <dt>Synced passkeys</dt>
          <dd>{describeSynced(data.deployment.syncedPasskeys)}</dd>
          <dt>Authenticator models</dt>
          <dd>{describeModels(data.deployment.aaguids)}</dd>
          <dt>Verified attestation</dt>
          <dd>{describeAttestation(data.deployment.requireAttestation)}</dd>
        </dl>
      </div>
      <h2>Group overrides</h2>
      <DataTable caption="Group overrides" what="Overrides" columns={overrideColumns} page={{ rows: data.overrides.map((row) => ({ ...row, id: row.groupId })) }} empty="No group has its own policy: everyone follows the deployment policy." />
      <h2>Passkeys that no longer meet the policy</h2>
      {affected.error ? <ErrorNote error={affected.error} /> : affected.data ? <AffectedTable report={affected.data} caption="People holding refused passkeys" /> : <Loading what="affected people" />}
      {editing && <PolicyDialog scope={editing.scope} initial={editing.initial} onClose={() => setEditing(null)} onSaved={close} />}
      {clearing && (
        <ConfirmDialog
          title={`Remove the passkey policy override of ${clearing.group ?? 'a deleted group'}?`}
          confirmLabel="Remove override"
          onCancel={() => setClearing(null)}
          onConfirm={async () => {
            await api('DELETE', `/admin/api/policy/groups/${encodeURIComponent(clearing.groupId)}`);
            toast('Override removed');
            close();
          }}
        >
          <p>Its members then follow the deployment policy (or their other groups’ overrides).</p>
        </ConfirmDialog>
      )}
    </Page>
  );
}
