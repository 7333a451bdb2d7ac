/**
 * Groups and memberships in SQLite.
 * - display_name_key (lowercased in JS) carries the case-insensitive uniqueness.
 * - Member ids that name no identity are skipped by inserting through a SELECT on identities,
 *   so SCIM clients sending stale ids do not fail the whole request.
 * - A membership change is applied in the same IMMEDIATE transaction as the version check and
 *   record write: set replaces the list; otherwise add runs before remove.
 * - update() keeps the stored createdAt.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  StoreError,
  type GroupFilter,
  type GroupQuery,
  type GroupRecord,
  type GroupRepository,
  type GroupSortAttr,
  type MembershipChange,
  type Page,
} from '../../server/ports/storage.ts';
import { candidateFilter, groupOperand, groupValue, isLeaf, leafValues, matchesGroup, sortRecords } from '../../server/ports/record-filter.ts';
import { withConstraints } from './constraint-errors.ts';
import { comparison, foldCase } from './identity-query.ts';
import { createStatementCache, limitSql } from './statement-cache.ts';

const FIELDS = { id: 'id', display_name_key: 'displayName' };

interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  source: GroupRecord['source'];
  created_at: number;
  updated_at: number;
  version: number;
}

function toRecord(row: GroupRow): GroupRecord {
  return {
    id: row.id,
    displayName: row.display_name,
    externalId: row.external_id,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function toParams(group: GroupRecord) {
  return {
    id: group.id,
    display_name: group.displayName,
    display_name_key: foldCase(group.displayName),
    external_id: group.externalId,
    source: group.source,
    created_at: group.createdAt,
    updated_at: group.updatedAt,
    version: group.version,
  };
}

const COLUMNS: Record<GroupSortAttr, string> = {
  id: 'g.id',
  displayName: 'g.display_name_key',
  externalId: 'g.external_id',
  createdAt: 'g.created_at',
  updatedAt: 'g.updated_at',
  source: 'g.source',
};

/** SQL for a filter tree without `where` predicates; leaves as in identity-query.ts. */
function filterSql(filter: GroupFilter, params: unknown[], negated = false): string {
  if ('where' in filter) throw new Error(`a predicate (${filter.describe}) cannot be answered in SQL`);
  if (!isLeaf(filter)) {
    if (filter.op === 'not') return `NOT (${filterSql(filter.filter, params, true)})`;
    if (filter.filters.length === 0) return filter.op === 'and' ? '1' : '0';
    const joiner = filter.op === 'and' ? ' AND ' : ' OR ';
    return `(${filter.filters.map((inner) => filterSql(inner, params, negated)).join(joiner)})`;
  }
  const op = filter.op ?? 'eq';
  if (filter.attr === 'member') {
    params.push(String(filter.value));
    return `${op === 'ne' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = g.id AND gm.identity_id = ?)`;
  }
  if (!Object.hasOwn(COLUMNS, filter.attr)) throw new Error(`unsupported group filter attribute: ${String(filter.attr)}`);
  const sql = comparison(COLUMNS[filter.attr], op, groupOperand(filter.attr, filter.value), params);
  return negated ? `IFNULL(${sql}, 0)` : sql;
}

function orderSql(sort: GroupQuery['sort']): string {
  if (!sort) return 'ORDER BY g.seq';
  const column = COLUMNS[sort.attr];
  return `ORDER BY (${column} IS NULL OR ${column} = ''), ${column} ${sort.descending ? 'DESC' : 'ASC'}, g.seq`;
}

export function createGroupRepository(db: BetterSqlite3.Database): GroupRepository {
  const insert = db.prepare(`
    INSERT INTO groups (id, display_name, display_name_key, external_id, source, created_at, updated_at, version)
    VALUES (@id, @display_name, @display_name_key, @external_id, @source, @created_at, @updated_at, @version)`);
  const update = db.prepare(`
    UPDATE groups SET display_name = @display_name, display_name_key = @display_name_key,
      external_id = @external_id, updated_at = @updated_at, version = @version
    WHERE id = @id`);
  const byId = db.prepare<[string], GroupRow>('SELECT * FROM groups WHERE id = ?');
  const byName = db.prepare<[string], GroupRow>('SELECT * FROM groups WHERE display_name_key = ?');
  const remove = db.prepare('DELETE FROM groups WHERE id = ?');
  const addMember = db.prepare(`
    INSERT INTO group_members (group_id, identity_id)
    SELECT ?, id FROM identities WHERE id = ?
    ON CONFLICT DO NOTHING`);
  const removeMember = db.prepare('DELETE FROM group_members WHERE group_id = ? AND identity_id = ?');
  const clearMembers = db.prepare('DELETE FROM group_members WHERE group_id = ?');
  const members = db.prepare<[string], string>(`
    SELECT gm.identity_id FROM group_members gm JOIN identities i ON i.id = gm.identity_id
    WHERE gm.group_id = ? ORDER BY i.seq`).pluck();
  const memberCount = db.prepare<[string], { group_id: string; n: number }>(`
    SELECT group_id, count(*) AS n FROM group_members WHERE group_id IN (SELECT value FROM json_each(?)) GROUP BY group_id`);
  const groupIdsOf = db.prepare<[string], string>(`
    SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
    WHERE gm.identity_id = ? ORDER BY g.seq`).pluck();

  const addAll = (groupId: string, ids: string[]) => {
    for (const id of ids) addMember.run(groupId, id);
  };
  const createWithMembers = db.transaction((group: GroupRecord, memberIds: string[]) => {
    insert.run(toParams(group));
    addAll(group.id, memberIds);
  });
  const updateChecked = db.transaction(
    (group: GroupRecord, expectedVersion: number, change: MembershipChange | undefined): GroupRecord => {
      const current = byId.get(group.id);
      if (!current) throw new StoreError('not_found', `group ${group.id} does not exist`);
      if (current.version !== expectedVersion) {
        throw new StoreError('stale', `group ${group.id} is at version ${current.version}, not ${expectedVersion}`);
      }
      const written = { ...group, createdAt: current.created_at, version: expectedVersion + 1 };
      update.run(toParams(written));
      if (change?.set) {
        clearMembers.run(group.id);
        addAll(group.id, change.set);
      } else if (change) {
        addAll(group.id, change.add ?? []);
        for (const id of change.remove ?? []) removeMember.run(group.id, id);
      }
      return written;
    },
  );
  const statement = createStatementCache(db);
  const groupsOf = db.prepare<[string], string>('SELECT group_id FROM group_members WHERE identity_id = ?').pluck();
  const page = db.transaction((query: GroupQuery, offset: number, limit: number): Page<GroupRecord> => {
    const candidates = query.filter ? candidateFilter(query.filter, () => true) : { filter: null, exact: true };
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (candidates.filter) clauses.push(filterSql(candidates.filter, params));
    if (query.search) {
      clauses.push('instr(g.display_name_key, ?) > 0');
      params.push(foldCase(query.search));
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    if (candidates.exact) {
      const rows = statement(`SELECT g.* FROM groups g ${where} ${orderSql(query.sort)} ${limitSql(limit, offset)}`).all(...params) as GroupRow[];
      // A short page that started inside the result is its end: no count needed (identities.ts).
      const ended = rows.length < limit && (offset === 0 || rows.length > 0);
      const total = ended ? offset + rows.length : (statement(`SELECT count(*) AS n FROM groups g ${where}`).get(...params) as { n: number }).n;
      return { items: rows.map(toRecord), total };
    }
    const related = new Map(leafValues(query.filter, 'member').map((identityId) => [identityId, new Set(groupsOf.all(identityId))]));
    const rows = statement(`SELECT g.* FROM groups g ${where} ORDER BY g.seq`).all(...params) as GroupRow[];
    let matched = rows.map(toRecord).filter((group) => matchesGroup(query.filter!, group, related));
    if (query.sort) matched = sortRecords(matched, query.sort, groupValue);
    return { items: matched.slice(offset, offset + limit), total: matched.length };
  });

  return {
    async create(group, memberIds) {
      withConstraints(FIELDS, () => createWithMembers.immediate(group, memberIds));
    },
    async get(id) {
      const row = byId.get(id);
      return row ? toRecord(row) : null;
    },
    async getByDisplayName(displayName) {
      const row = byName.get(foldCase(displayName));
      return row ? toRecord(row) : null;
    },
    async update(group, expectedVersion, change) {
      return withConstraints(FIELDS, () => updateChecked.immediate(group, expectedVersion, change));
    },
    async delete(id) {
      return remove.run(id).changes > 0;
    },
    async query(query) {
      return page.deferred(query, Math.max(0, Math.floor(query.offset)), Math.max(0, Math.floor(query.limit)));
    },
    async members(groupId) {
      return members.all(groupId);
    },
    async groupIdsOf(identityId) {
      return groupIdsOf.all(identityId);
    },
    async memberCounts(groupIds) {
      const counts = new Map<string, number>(groupIds.map((id) => [id, 0]));
      for (const row of memberCount.all(JSON.stringify(groupIds))) counts.set(row.group_id, row.n);
      return counts;
    },
  };
}
