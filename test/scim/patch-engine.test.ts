/**
 * The PATCH engine as pure functions (RFC 7644 §3.5.2), without HTTP: each case applies
 * operations to an in-memory resource and checks the result or the SCIM error.
 */
import { describe, expect, it } from 'vitest';
import { applyPatch, readPatchRequest, type PatchOperation } from '../../server/edges/scim/patch-engine.ts';
import { userPatch } from '../../server/edges/scim/user-routes.ts';
import { groupPatch as groupDialect } from '../../server/edges/scim/group-routes.ts';
import { ScimError } from '../../server/edges/scim/scim-errors.ts';
import { URN } from '../../server/edges/scim/scim-schemas.ts';

const user = () => ({
  schemas: [URN.user],
  id: 'u1',
  userName: 'pat@example.com',
  name: { givenName: 'Pat', familyName: 'Doe' },
  displayName: 'Pat Doe',
  emails: [
    { value: 'pat@example.com', type: 'work', primary: true },
    { value: 'pat@home.example', type: 'home', primary: false },
  ],
  active: true,
  locale: 'en-US',
  groups: [{ value: 'g1', display: 'Staff' }],
});
const group = () => ({ schemas: [URN.group], id: 'g1', displayName: 'Staff', members: [{ value: 'a' }, { value: 'b' }] });

const ops = (dialect: typeof userPatch, ...operations: unknown[]): PatchOperation[] => readPatchRequest({ schemas: [URN.patchOp], Operations: operations }, dialect);

function scimErrorOf(run: () => unknown): { status: number; scimType?: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScimError);
    return error as ScimError;
  }
  throw new Error('expected a ScimError');
}

describe('RFC 7644 §3.5.2.1 add', () => {
  it('appends multi-valued values once, merges complex ones, and moves primary', () => {
    const result = applyPatch(user(), ops(userPatch, { op: 'add', path: 'emails', value: [{ value: 'PAT@home.example' }, { value: 'new@example.com', primary: true }] }, { op: 'add', path: 'name', value: { formatted: 'Dr Pat Doe' } }), userPatch);
    expect(result.emails).toEqual([
      { value: 'pat@example.com', type: 'work', primary: false },
      { value: 'pat@home.example', type: 'home', primary: false },
      { value: 'new@example.com', primary: true },
    ]);
    expect(result.name).toEqual({ givenName: 'Pat', familyName: 'Doe', formatted: 'Dr Pat Doe' });
  });

  it('a path-less value may use dotted names; a filtered sub-attribute path that matches nothing creates the value', () => {
    const result = applyPatch(user(), ops(userPatch, { op: 'add', value: { 'name.givenName': 'Patricia', nickName: 'ignored' } }, { op: 'add', path: 'emails[type eq "other"].value', value: 'x@other.example' }), userPatch);
    expect((result.name as Record<string, unknown>).givenName).toBe('Patricia');
    expect(result.nickName).toBeUndefined();
    expect((result.emails as unknown[]).at(-1)).toEqual({ type: 'other', value: 'x@other.example' });
  });
});

describe('RFC 7644 §3.5.2.2 remove', () => {
  it('removes all values, filtered values, a sub-attribute, or listed members', () => {
    expect(applyPatch(group(), ops(groupDialect, { op: 'remove', path: 'members' }), groupDialect).members).toBeUndefined();
    expect(applyPatch(group(), ops(groupDialect, { op: 'remove', path: 'members[value eq "a"]' }), groupDialect).members).toEqual([{ value: 'b' }]);
    expect(applyPatch(group(), ops(groupDialect, { op: 'remove', path: 'members', value: [{ value: 'b' }] }), groupDialect).members).toEqual([{ value: 'a' }]);
    const result = applyPatch(user(), ops(userPatch, { op: 'remove', path: 'emails[type eq "home"]' }, { op: 'remove', path: 'name.familyName' }, { op: 'remove', path: 'emails.type' }, { op: 'remove', path: 'locale' }), userPatch);
    expect(result.emails).toEqual([{ value: 'pat@example.com', primary: true }]);
    expect(result.name).toEqual({ givenName: 'Pat' });
    expect(result.locale).toBeUndefined();
  });

  it('a filter matching nothing changes nothing (the value is already gone)', () => {
    expect(applyPatch(group(), ops(groupDialect, { op: 'remove', path: 'members[value eq "zz"]' }), groupDialect)).toEqual(group());
  });

  it('required, always-assigned and read-only targets are 400 mutability; no path is 400 noTarget', () => {
    for (const path of ['userName', 'emails', 'active', 'emails[type eq "work"].value', 'emails.value']) {
      expect(scimErrorOf(() => applyPatch(user(), ops(userPatch, { op: 'remove', path }), userPatch))).toMatchObject({ status: 400, scimType: 'mutability' });
    }
    const lastEmails = ops(userPatch, { op: 'remove', path: 'emails[type eq "work"]' }, { op: 'remove', path: 'emails[type eq "home"]' });
    expect(scimErrorOf(() => applyPatch(user(), lastEmails, userPatch))).toMatchObject({ scimType: 'mutability' });
    expect(scimErrorOf(() => ops(userPatch, { op: 'remove', path: 'groups' }))).toMatchObject({ scimType: 'mutability', message: expect.stringContaining('/Groups') });
    expect(scimErrorOf(() => ops(userPatch, { op: 'remove', path: 'meta.version' }))).toMatchObject({ scimType: 'mutability' });
    expect(scimErrorOf(() => applyPatch(group(), ops(groupDialect, { op: 'remove', path: 'displayName' }), groupDialect))).toMatchObject({ scimType: 'mutability' });
    expect(scimErrorOf(() => ops(userPatch, { op: 'remove' }))).toMatchObject({ scimType: 'noTarget' });
  });
});

describe('RFC 7644 §3.5.2.3 replace', () => {
  it('replaces a whole multi-valued attribute, the matching values, or a sub-attribute of them', () => {
    expect(applyPatch(group(), ops(groupDialect, { op: 'replace', path: 'members', value: [{ value: 'c' }] }), groupDialect).members).toEqual([{ value: 'c' }]);
    const result = applyPatch(user(), ops(userPatch, { op: 'replace', path: 'emails[type eq "home"].primary', value: true }, { op: 'replace', path: 'name', value: { givenName: 'P.' } }), userPatch);
    expect(result.emails).toEqual([
      { value: 'pat@example.com', type: 'work', primary: false },
      { value: 'pat@home.example', type: 'home', primary: true },
    ]);
    expect(result.name).toEqual({ givenName: 'P.', familyName: 'Doe' });
  });

  it('a filter matching nothing is 400 noTarget; a read-only attribute is 400 mutability unless the value is unchanged', () => {
    expect(scimErrorOf(() => applyPatch(group(), ops(groupDialect, { op: 'replace', path: 'members[value eq "zz"]', value: { value: 'c' } }), groupDialect))).toMatchObject({ scimType: 'noTarget' });
    expect(applyPatch(group(), ops(groupDialect, { op: 'replace', value: { id: 'g1', displayName: 'Renamed' } }), groupDialect).displayName).toBe('Renamed');
    expect(scimErrorOf(() => applyPatch(group(), ops(groupDialect, { op: 'replace', value: { id: 'g2' } }), groupDialect))).toMatchObject({ scimType: 'mutability' });
  });

  it('leaves the input untouched and drops the password', () => {
    const input = user();
    const result = applyPatch(input, ops(userPatch, { op: 'replace', value: { password: 'secret', displayName: 'X' } }, { op: 'replace', path: 'password', value: 'secret' }), userPatch);
    expect(input).toEqual(user());
    expect(JSON.stringify(result)).not.toContain('secret');
  });
});
