/**
 * Okta's SCIM 2.0 client ("SCIM 2.0 Test App (OAuth Bearer Token)") with the request sequence
 * Okta really sends (OKTA.md §2 and Additions §6):
 * - assign: `GET /Users?filter=userName eq "…"&startIndex=1&count=100`; a hit is adopted (its id
 *   kept) and updated with a full PUT, a miss is created with POST (placeholder password, groups []);
 * - profile change: GET /Users/{id}, then a full PUT;
 * - deactivate / reactivate / unassign: PATCH with no path, value {active};
 * - Push Groups: `GET /Groups?filter=displayName eq "…"`, an exact match is linked, else POST with
 *   members []; then membership PATCHes (`add` members [{value, display}], `remove`
 *   `members[value eq "…"]`) and renames as a path-less replace of {id, displayName}.
 * Work is serialised per app, like Okta's provisioning queue; `idle()` waits for it to drain.
 */
import type { SimUser } from './okta-sim.ts';

type Json = Record<string, unknown>;

export interface ScimPushRecord {
  method: string;
  path: string;
  status: number;
  body?: unknown;
}

export class ScimPushError extends Error {}

export function createScimPush(deps: { baseUrl: string; token: string; groupName: (groupId: string) => string | null; groupMembers: (groupId: string) => Set<string>; users: Map<string, SimUser> }) {
  const baseUrl = deps.baseUrl.replace(/\/+$/, '');
  /** Okta user id -> SCIM id at the target (Okta's "app user" externalId). */
  const userIds = new Map<string, string>();
  /** Okta group id -> SCIM id at the target. */
  const groupIds = new Map<string, string>();
  const log: ScimPushRecord[] = [];
  const errors: string[] = [];
  let queue: Promise<void> = Promise.resolve();

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json | null }> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${deps.token}`,
        accept: 'application/scim+json',
        'user-agent': 'Okta SCIM Client 1.0.0',
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json; charset=utf-8' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Json) : null;
    log.push({ method, path, status: response.status, body });
    if (response.status >= 400) throw new ScimPushError(`${method} ${path} answered ${response.status}: ${String(json?.detail ?? text)}`);
    return { status: response.status, json };
  }

  function userBody(user: SimUser, active = user.status === 'ACTIVE'): Json {
    const { profile } = user;
    return {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: profile.login,
      name: { givenName: profile.firstName, familyName: profile.lastName },
      emails: [{ primary: true, value: profile.email, type: 'work' }],
      displayName: `${profile.firstName ?? ''} ${profile.lastName ?? ''}`.trim(),
      locale: (profile.locale as string | undefined) ?? 'en-US',
      externalId: user.id,
      groups: [],
      password: 'Placeholder-never-stored-1!',
      active,
    };
  }

  const filterQuery = (attribute: string, value: string) => `filter=${encodeURIComponent(`${attribute} eq "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)}&startIndex=1&count=100`;

  function enqueue(work: () => Promise<void>): Promise<void> {
    const next = queue.then(work).catch((error: Error) => {
      errors.push(error.message);
    });
    queue = next;
    return next;
  }

  async function provision(user: SimUser): Promise<string> {
    const known = userIds.get(user.id);
    if (known) return known;
    const found = await call('GET', `/Users?${filterQuery('userName', user.profile.login)}`);
    const hit = ((found.json?.Resources as Json[] | undefined) ?? [])[0];
    if (hit) {
      userIds.set(user.id, hit.id as string);
      await call('PUT', `/Users/${hit.id as string}`, { ...userBody(user), id: hit.id });
      return hit.id as string;
    }
    const created = await call('POST', '/Users', userBody(user));
    userIds.set(user.id, created.json!.id as string);
    return created.json!.id as string;
  }

  return {
    log,
    errors,
    userIds,
    groupIds,
    idle: () => queue,
    assignUser: (user: SimUser) => enqueue(async () => void (await provision(user))),
    updateUser: (user: SimUser) =>
      enqueue(async () => {
        const id = userIds.get(user.id);
        if (!id) return;
        await call('GET', `/Users/${id}`);
        await call('PUT', `/Users/${id}`, { ...userBody(user), id });
      }),
    setActive: (user: SimUser, active: boolean) =>
      enqueue(async () => {
        const id = userIds.get(user.id);
        if (!id) return;
        await call('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active } }] });
      }),
    pushGroup: (groupId: string) =>
      enqueue(async () => {
        const name = deps.groupName(groupId);
        if (!name) throw new ScimPushError(`no group ${groupId} to push`);
        let id = groupIds.get(groupId);
        if (!id) {
          const found = await call('GET', `/Groups?${filterQuery('displayName', name)}`);
          const hit = ((found.json?.Resources as Json[] | undefined) ?? []).find((group) => group.displayName === name);
          id = hit ? (hit.id as string) : ((await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name, members: [] })).json!.id as string);
          groupIds.set(groupId, id);
        }
        const members: Json[] = [];
        for (const userId of deps.groupMembers(groupId)) {
          const user = deps.users.get(userId);
          if (user && user.status === 'ACTIVE') members.push({ value: await provision(user), display: user.profile.login });
        }
        if (members.length) await call('PATCH', `/Groups/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: members }] });
      }),
    removeMember: (groupId: string, user: SimUser) =>
      enqueue(async () => {
        const id = groupIds.get(groupId);
        const member = userIds.get(user.id);
        if (!id || !member) return;
        await call('PATCH', `/Groups/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${member}"]` }] });
      }),
    renameGroup: (groupId: string) =>
      enqueue(async () => {
        const id = groupIds.get(groupId);
        const name = deps.groupName(groupId);
        if (!id || !name) return;
        await call('PATCH', `/Groups/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { id, displayName: name } }] });
      }),
  };
}

export type ScimPush = ReturnType<typeof createScimPush>;
