/** Creating and renaming a Latchkey group, and adding a person to it (searched by name, username or email). */
import { useState } from 'preact/hooks';
import { api, query } from '../ui/api.ts';
import { useLoad, useToast } from '../ui/components.tsx';
import { FormDialog } from '../ui/form-dialog.tsx';
import type { GroupView, IdentityView } from '../../server/edges/admin/views.ts';

export function GroupNameDialog(props: { group?: GroupView; onClose: () => void; onSaved: (group: GroupView) => void }) {
  const toast = useToast();
  const [name, setName] = useState(props.group?.displayName ?? '');
  return (
    <FormDialog
      title={props.group ? 'Rename group' : 'Create group'}
      submitLabel={props.group ? 'Rename' : 'Create group'}
      onClose={props.onClose}
      onSubmit={async () => {
        const { group } = props.group ? await api<{ group: GroupView }>('PATCH', `/admin/api/groups/${props.group.id}`, { displayName: name }) : await api<{ group: GroupView }>('POST', '/admin/api/groups', { displayName: name });
        toast(props.group ? `Renamed to ${group.displayName}` : `${group.displayName} created`);
        props.onSaved(group);
      }}
    >
      <label class="field">
        Group name
        <input required maxLength={256} value={name} onInput={(event) => setName(event.currentTarget.value)} />
      </label>
    </FormDialog>
  );
}

export function AddMemberDialog(props: { group: GroupView; onClose: () => void; onAdded: () => void }) {
  const toast = useToast();
  const [search, setSearch] = useState('');
  const [chosen, setChosen] = useState('');
  const people = useLoad(() => api<{ items: IdentityView[] }>('GET', `/admin/api/identities${query({ search, limit: 20 })}`), [search]);
  return (
    <FormDialog
      title={`Add a member to ${props.group.displayName}`}
      submitLabel="Add member"
      disabled={!chosen}
      onClose={props.onClose}
      onSubmit={async () => {
        await api('PUT', `/admin/api/groups/${props.group.id}/members/${encodeURIComponent(chosen)}`, {});
        toast('Member added');
        props.onAdded();
      }}
    >
      <label class="field">
        Find a person
        <input type="search" placeholder="Name, username or email" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
      </label>
      <label class="field">
        Person
        <select required value={chosen} onChange={(event) => setChosen(event.currentTarget.value)}>
          <option value="">Choose…</option>
          {(people.data?.items ?? []).map((person) => (
            <option key={person.id} value={person.id}>
              {person.name} ({person.userName})
            </option>
          ))}
        </select>
      </label>
    </FormDialog>
  );
}
