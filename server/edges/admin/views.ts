/**
 * What the console API answers with: one view per resource, built from domain records. The web
 * console imports these row types (`import type`), so a renamed field breaks the build, not a page.
 * Times are ISO 8601 strings (UTC); the browser shows them in its own locale and zone.
 */
import { displayNameOf } from '../../domain/identities.ts';
import { managedByOkta } from '../../domain/ownership.ts';
import { describeAuthenticator, stillAttested } from '../../domain/authenticator-catalogue.ts';
import type { ScimTokenInfo } from '../../domain/scim-tokens.ts';
import type { PolicyReason, PolicyVerdict, AuthenticatorPolicy, PolicyOverride, EffectivePolicy } from '../../domain/authenticator-policy.ts';
import type { AffectedReport } from '../../domain/authenticator-policies.ts';
import type { AppRecord, AuditEvent, EnrollmentStatus, GroupRecord, IdentityRecord, InviteRecord, PasskeyRecord, RecordSource } from '../../ports/storage.ts';

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export type { EnrollmentStatus };

export interface AppView {
  id: string;
  kind: AppRecord['kind'];
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** How the client authenticates; with private_key_jwt, its public keys (inline) or their URL. */
  tokenEndpointAuthMethod: 'client_secret_basic' | 'private_key_jwt';
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
  oktaDomain: string | null;
  loginUrl: string | null;
  iconDataUri: string | null;
  assignedGroupIds: string[];
  createdAt: string;
}

export function describeApp(app: AppRecord): AppView {
  return {
    id: app.id,
    kind: app.kind,
    name: app.name,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    tokenEndpointAuthMethod: app.clientAuth.method === 'private_key_jwt' ? 'private_key_jwt' : 'client_secret_basic',
    jwks: app.clientAuth.method === 'private_key_jwt' ? app.clientAuth.jwks : null,
    jwksUri: app.clientAuth.method === 'private_key_jwt' ? app.clientAuth.jwksUri : null,
    oktaDomain: app.oktaDomain,
    loginUrl: app.loginUrl,
    iconDataUri: app.iconDataUri,
    assignedGroupIds: app.assignedGroupIds,
    createdAt: iso(app.createdAt)!,
  };
}

export interface NamedRef {
  id: string;
  displayName: string;
}

export interface AppDetailView {
  app: AppView;
  assignedGroups: NamedRef[];
  endpoints?: Record<string, string>;
  scimUrl?: string;
  /** Why a real Okta org could not reach PUBLIC_URL (http or loopback), else null. */
  reachability?: string | null;
}

export interface IdentityView {
  id: string;
  userName: string;
  email: string;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  name: string;
  externalId: string | null;
  /** Who created the person: Okta over SCIM, the console, or the CLI. */
  source: RecordSource;
  /** Pushed over SCIM: Okta owns the profile, so the console does not edit it. */
  scimManaged: boolean;
  active: boolean;
  roles: string[];
  enrollmentStatus: EnrollmentStatus;
  createdAt: string;
  updatedAt: string;
}

/** A person without their enrollment status (the signed-in admin in the session answer). */
export type ProfileView = Omit<IdentityView, 'enrollmentStatus'>;

export function describeProfile(identity: IdentityRecord): ProfileView {
  return {
    id: identity.id,
    userName: identity.userName,
    email: identity.email,
    givenName: identity.givenName,
    familyName: identity.familyName,
    displayName: identity.displayName,
    name: displayNameOf(identity),
    externalId: identity.externalId,
    source: identity.source,
    scimManaged: managedByOkta(identity),
    active: identity.active,
    roles: identity.roles,
    createdAt: iso(identity.createdAt)!,
    updatedAt: iso(identity.updatedAt)!,
  };
}

export function describeIdentity(identity: IdentityRecord & { enrollmentStatus: EnrollmentStatus }): IdentityView {
  return { ...describeProfile(identity), enrollmentStatus: identity.enrollmentStatus };
}

export interface IdentityPageView {
  total: number;
  offset: number;
  limit: number;
  items: IdentityView[];
}

export interface PasskeyView {
  id: string;
  name: string;
  model: string | null;
  /** The model's icon as a data: URL (SVG or PNG): render only as <img src>, never inline. */
  modelIcon: string | null;
  aaguid: string;
  synced: boolean;
  deviceType: PasskeyRecord['deviceType'];
  backedUp: boolean;
  /** The attestation statement format at registration ('none' when none was given). */
  attestationFormat: string;
  /** Its attestation was verified at registration and FIDO has not voided the model since (stillAttested). */
  attested: boolean;
  /** Whether it meets its person's effective passkey policy now; with the broken rules otherwise. */
  meetsPolicy: boolean;
  policyReasons: PolicyReason[];
  createdAt: string;
  lastUsedAt: string | null;
}

export function describePasskey(passkey: PasskeyRecord, verdict: PolicyVerdict = { allowed: true }): PasskeyView {
  const model = describeAuthenticator(passkey.aaguid);
  return {
    attestationFormat: passkey.attestationFormat,
    attested: stillAttested(passkey),
    meetsPolicy: verdict.allowed,
    policyReasons: verdict.allowed ? [] : verdict.reasons,
    id: passkey.id,
    name: passkey.name,
    model: model?.name ?? null,
    // The console is drawn on light backgrounds.
    modelIcon: model?.iconLight ?? model?.iconDark ?? null,
    aaguid: passkey.aaguid,
    synced: passkey.deviceType === 'multiDevice' || passkey.backedUp,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    createdAt: iso(passkey.createdAt)!,
    lastUsedAt: iso(passkey.lastUsedAt),
  };
}

export interface InviteView {
  id: string;
  delivery: InviteRecord['delivery'];
  createdAt: string;
  expiresAt: string;
  spentAt: string | null;
  revokedAt: string | null;
  sendState: InviteRecord['sendState'];
  sendError: string | null;
}

export function describeInvite(invite: InviteRecord): InviteView {
  return {
    id: invite.id,
    delivery: invite.delivery,
    createdAt: iso(invite.createdAt)!,
    expiresAt: iso(invite.expiresAt)!,
    spentAt: iso(invite.spentAt),
    revokedAt: iso(invite.revokedAt),
    sendState: invite.sendState,
    sendError: invite.sendError,
  };
}

export interface IdentityDetailView {
  identity: IdentityView;
  groups: NamedRef[];
  passkeys: PasskeyView[];
  /** The passkey policy that applies to this person (the deployment's, or their groups' overrides combined). */
  policy: EffectivePolicy;
  invites: InviteView[];
}

export interface BulkInviteResult {
  identityId: string;
  userName: string | null;
  email: string | null;
  outcome: 'queued' | 'refused';
  inviteId?: string;
  reason?: string;
}

export interface GroupView {
  id: string;
  displayName: string;
  externalId: string | null;
  source: RecordSource;
  scimManaged: boolean;
  createdAt: string;
}

export function describeGroup(group: GroupRecord): GroupView {
  return { id: group.id, displayName: group.displayName, externalId: group.externalId, source: group.source, scimManaged: managedByOkta(group), createdAt: iso(group.createdAt)! };
}

export interface GroupRow extends GroupView {
  members: number;
}

export interface GroupDetailView {
  group: GroupView;
  total: number;
  members: IdentityView[];
  apps: Array<{ id: string; name: string; kind: AppRecord['kind'] }>;
}

export interface ScimTokenView {
  id: string;
  name: string;
  state: ScimTokenInfo['state'];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function describeScimToken(token: ScimTokenInfo): ScimTokenView {
  return { ...token, createdAt: iso(token.createdAt)!, expiresAt: iso(token.expiresAt), lastUsedAt: iso(token.lastUsedAt), revokedAt: iso(token.revokedAt) };
}

export interface AuditRow {
  id: string;
  at: string;
  kind: string;
  action: string;
  actor: string;
  actorName: string | null;
  target: string | null;
  targetName: string | null;
  outcome: AuditEvent['outcome'];
  detail: Record<string, unknown>;
}

export interface SessionView {
  me: ProfileView;
  orgName: string;
  issuer: string;
  scimUrl: string;
  readiness: { admins: number; withPasskeys: number; warning: string | null };
}

export type { PolicyReason, AuthenticatorPolicy, PolicyOverride, EffectivePolicy, AffectedReport };

export interface PolicyOverrideView {
  groupId: string;
  /** null: the group was deleted; the override applies to nobody and can be removed. */
  group: string | null;
  override: PolicyOverride;
}

export interface PolicyView {
  deployment: AuthenticatorPolicy;
  overrides: PolicyOverrideView[];
}

/** A preview (dry run) or a saved change: the policy set it makes and who it refuses. */
export interface PolicyChangeView {
  applied: boolean;
  policy: PolicyView;
  affected: AffectedReport;
}
