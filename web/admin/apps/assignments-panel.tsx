/** Assignments by group: who may sign in to an app (or sees a bookmark's tile). */
import { useState } from 'preact/hooks';
import { api } from '../../ui/api.ts';
import { useLoad, useToast } from '../../ui/components.tsx';
import type { AppView as AppInfo, GroupRow } from '../../../server/edges/admin/views.ts';
export function AssignmentsPanel({ app, assigned, onChange }: { app: AppInfo; assigned: Array<{ id: string; displayName: string }>; onChange: () => void }) {
  const toast = useToast();
  const [search, setSearch] = useState('');
  const { data } = useLoad(() => api<{ items: GroupRow[] }>('GET', `/admin/api/groups?limit=50${search ? `&search=${encodeURIComponent(search)}` : ''}`), [search]);
  const assignedIds = new Set(assigned.map((group) => group.id));

  async function set(groupId: string, value: boolean, name: string) {
    try {
      await api('PUT', `/admin/api/apps/${app.id}/assignments/${groupId}`, { assigned: value });
      toast(value ? `${name} assigned to ${app.name}` : `${name} unassigned from ${app.name}`);
      onChange();
    } catch (error) {
      toast((error as Error).message, 'error');
    }
  }

  return (
    <div class="card">
      <h2>Assignments</h2>
      <p class="muted">{app.kind === 'bookmark' ? 'Members of these groups see this tile on their dashboard.' : 'Only members of these groups can sign in to this application.'}</p>
      <h3>Assigned groups</h3>
      {assigned.length === 0 ? (
        <p class="notice notice-warn">No group is assigned yet: nobody can use this application.</p>
      ) : (
        <ul class="chip-list" aria-label="Assigned groups">
          {assigned.map((group) => (
            <li key={group.id} class="chip">
              {group.displayName}
              <button type="button" class="icon-button" aria-label={`Unassign ${group.displayName}`} onClick={() => set(group.id, false, group.displayName)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <h3>Assign groups</h3>
      <label class="field field-inline">
        Find a group
        <input type="search" value={search} placeholder="Group name" onInput={(event) => setSearch(event.currentTarget.value)} />
      </label>
      <table>
        <caption class="visually-hidden">Groups to assign</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Members</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((group) => (
            <tr key={group.id}>
              <td>{group.displayName}</td>
              <td>{group.members}</td>
              <td class="actions-cell">
                {assignedIds.has(group.id) ? (
                  <button type="button" class="button button-small" aria-label={`Unassign ${group.displayName}`} onClick={() => set(group.id, false, group.displayName)}>
                    Unassign
                  </button>
                ) : (
                  <button type="button" class="button button-small button-primary" aria-label={`Assign ${group.displayName}`} onClick={() => set(group.id, true, group.displayName)}>
                    Assign
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
