/**
 * The Redis key layout, in one place. Lua scripts build the same names with K(...) (see
 * LUA_PRELUDE), so a key named here and a key named in a script are always the same string.
 *
 *   identity:{id}                     hash, one JSON value per field (+ _seq _search _claims _idx)
 *   identity:{id}:groups              zset group id -> group seq
 *   identity:{id}:passkeys            zset passkey id -> passkey seq
 *   identity:{id}:invites             zset invite id -> invite seq
 *   identities:seq / identities:all   creation counter / zset identity id -> seq (order + paging)
 *   identities:by-userName:{key}      string -> id (uniqueness; keys per server/ports/identity-keys.ts)
 *   identities:by-skeleton:{skeleton} identities:by-emailKey:{key}   string -> id (uniqueness)
 *   identities:by-{attr}:{value}      set of ids: email (every address, folded), externalId, active,
 *                                     oktaUserId, role, displayName (folded), source
 *   identities:by-createdAt / by-updatedAt   zset id -> epoch ms (range filters)
 *   schema:identity-claims            "1" once records written before claims were re-keyed
 *   identities:with-passkey           set of ids owning at least one passkey
 *   identities:pending-invite         zset id -> latest expiresAt of an unspent, unrevoked invite
 *   group:{id}  group:{id}:members    hash / zset identity id -> identity seq
 *   groups:seq groups:all groups:by-displayName:{lower} groups:by-externalId:{value}
 *   passkey:{id} passkeys:seq         hash (+ _owner) / counter
 *   invite:{id} invites:seq invites:by-token:{hash}
 *   app:{id} apps:seq apps:all        signing-key:{kid} signing-keys:seq signing-keys:all
 *   scim-token:{id} scim-tokens:seq scim-tokens:all scim-tokens:by-hash:{hash}
 *   setting:{key}                     string
 *   authenticator-metadata            hash no / record (JSON): the imported FIDO MDS3 BLOB
 *   changes:{topic}                   version counter; pub/sub channel "changes" carries topic names
 *   oidc:{model}:{id}                 hash payload/expiresAt/consumed/index values, PEXPIREAT
 *   oidc:{model}:uid:{uid}  oidc:{model}:userCode:{code}   string -> id
 *   oidc:grant:{grantId}  oidc:account:{accountId}         set of "{model}:{id}"
 *   one-time:{key}                    string "{expiresAt}:{value}"
 *   audit:seq audit:event:{id} audit:by-time   counter / JSON / zset "{seq}:{id}" -> at
 *   job:{id} jobs:seq                 hash (+ _seq) / counter
 *   jobs:{queue}:key:{key}            string -> id (one record per (queue, key))
 *   jobs:{queue}:all  jobs:{queue}:state:{state}   zsets id -> seq (lists, counts)
 *   jobs:{queue}:due                  zset "{seq}:{id}" -> time it may next be leased
 *   tmp:{nonce}:{n}                   scratch sets inside one query script, deleted before it returns
 *
 * Scripts compute key names at run time (cascades cannot know them up front), so the store targets
 * a single Redis primary (standalone or Sentinel), not Redis Cluster.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  identity = (id: string) => this.key('identity', id);
  identityGroups = (id: string) => this.key('identity', id, 'groups');
  identityPasskeys = (id: string) => this.key('identity', id, 'passkeys');
  identityInvites = (id: string) => this.key('identity', id, 'invites');
  identitiesAll = () => this.key('identities', 'all');
  identityByUserName = (key: string) => this.key('identities', 'by-userName', key);
  identityBySkeleton = (skeleton: string) => this.key('identities', 'by-skeleton', skeleton);
  identityByEmail = (key: string) => this.key('identities', 'by-emailKey', key);
  identitiesBy = (attr: 'email' | 'externalId' | 'active' | 'oktaUserId' | 'role' | 'displayName' | 'source', value: string) =>
    this.key('identities', `by-${attr}`, value);
  identitiesByTime = (attr: 'createdAt' | 'updatedAt') => this.key('identities', `by-${attr}`);
  withPasskey = () => this.key('identities', 'with-passkey');
  pendingInvite = () => this.key('identities', 'pending-invite');

  group = (id: string) => this.key('group', id);
  groupMembers = (id: string) => this.key('group', id, 'members');
  groupsAll = () => this.key('groups', 'all');
  groupByDisplayName = (lower: string) => this.key('groups', 'by-displayName', lower);
  groupsByExternalId = (value: string) => this.key('groups', 'by-externalId', value);
  groupsBySource = (value: string) => this.key('groups', 'by-source', value);

  passkey = (id: string) => this.key('passkey', id);
  invite = (id: string) => this.key('invite', id);
  inviteByToken = (hash: string) => this.key('invites', 'by-token', hash);

  app = (id: string) => this.key('app', id);
  appsAll = () => this.key('apps', 'all');
  signingKey = (kid: string) => this.key('signing-key', kid);
  signingKeysAll = () => this.key('signing-keys', 'all');
  scimToken = (id: string) => this.key('scim-token', id);
  scimTokensAll = () => this.key('scim-tokens', 'all');
  scimTokenByHash = (hash: string) => this.key('scim-tokens', 'by-hash', hash);
  setting = (key: string) => this.key('setting', key);
  authenticatorMetadata = () => this.key('authenticator-metadata');

  oidc = (model: string, id: string) => this.key('oidc', model, id);
  oidcByUid = (model: string, uid: string) => this.key('oidc', model, 'uid', uid);
  oidcByUserCode = (model: string, code: string) => this.key('oidc', model, 'userCode', code);

  oneTime = (key: string) => this.key('one-time', key);

  auditEvent = (id: string) => this.key('audit', 'event', id);
  auditByTime = () => this.key('audit', 'by-time');

  job = (id: string) => this.key('job', id);
  jobByKey = (queue: string, key: string) => this.key('jobs', queue, 'key', key);
  jobsAll = (queue: string) => this.key('jobs', queue, 'all');
  jobsInState = (queue: string, state: string) => this.key('jobs', queue, 'state', state);
}

/**
 * Prepended to every script. ARGV[1] is always the key prefix (added by defineScript); the
 * script's own arguments are A[1..]. Record fields hold JSON text, so Lua compares and writes
 * values that the TypeScript side encoded, and only ever formats integers itself.
 */
export const LUA_PRELUDE = `
local P = ARGV[1]
local A = {}
for i = 2, #ARGV do A[i - 1] = ARGV[i] end
local function K(...) return P .. table.concat({...}, ':') end
local function num(s)
  if s == false or s == nil or s == '' or s == 'null' then return nil end
  return tonumber(s)
end
local function fmt(n) return string.format('%.17g', n) end
local function hset_pairs(key, from, count)
  if count > 0 then
    local args = {}
    for i = from, from + count * 2 - 1 do args[#args + 1] = A[i] end
    redis.call('HSET', key, unpack(args))
  end
end
`;
