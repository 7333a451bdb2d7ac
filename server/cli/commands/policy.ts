/**
 * `latchkey policy`: which passkeys the organisation accepts (server/domain/authenticator-policy.ts).
 * Every change can be previewed with --dry-run: the people and passkeys it would refuse.
 */
import type { Command } from 'commander';
import { AppError } from '../../domain/errors.ts';
import type { AffectedReport, PolicyUpdate } from '../../domain/authenticator-policies.ts';
import type { AuthenticatorPolicy, PolicyOverride } from '../../domain/authenticator-policy.ts';
import { useMetadataStatements } from '../../domain/authenticator-catalogue.ts';
import { CLI_ACTOR, print, services } from '../context.ts';

/**
 * Who a policy refuses depends on the imported metadata too (a model FIDO has voided since no
 * longer counts as attested): load it into this process as every server instance has.
 */
async function servicesWithMetadata() {
  const svc = await services();
  useMetadataStatements((await svc.store.authenticatorMetadata.get())?.entries ?? []);
  return svc;
}

const policyJson = (policy: PolicyOverride) => ({
  ...(policy.syncedPasskeys !== undefined ? { synced: policy.syncedPasskeys } : {}),
  ...(policy.aaguids !== undefined ? { aaguids: policy.aaguids.mode === 'any' ? { mode: 'any' } : { mode: policy.aaguids.mode, list: policy.aaguids.aaguids } } : {}),
  ...(policy.requireAttestation !== undefined ? { require_attestation: policy.requireAttestation } : {}),
});

const affectedJson = (report: AffectedReport) => ({
  totals: { people: report.totals.people, passkeys: report.totals.passkeys, locked_out: report.totals.lockedOut, admins_locked_out: report.totals.admins },
  people: report.people.map((person) => ({
    identity_id: person.identityId,
    username: person.userName,
    name: person.name,
    admin: person.admin,
    locked_out: person.lockedOut,
    compliant_passkeys: person.compliantPasskeys,
    passkeys: person.passkeys.map((passkey) => ({ id: passkey.id, name: passkey.name, model: passkey.model, aaguid: passkey.aaguid, synced: passkey.synced, attested: passkey.attested, reasons: passkey.reasons, newly_refused: passkey.newlyRefused })),
  })),
});

function choice<T extends string>(flag: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new AppError('invalid_input', `${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}

const aaguidList = (value: string, previous: string[] = []) => [...previous, ...value.split(/[\s,]+/).filter(Boolean)];

interface SetOptions {
  group?: string;
  synced?: 'allow' | 'deny' | 'inherit';
  aaguidsAllow?: string[];
  aaguidsBlock?: string[];
  aaguidsAny?: boolean;
  aaguidsInherit?: boolean;
  requireAttestation?: 'true' | 'false' | 'inherit';
  dryRun?: boolean;
}

function updateOf(options: SetOptions): PolicyUpdate {
  const aaguidChoices = [options.aaguidsAllow && '--aaguids-allow', options.aaguidsBlock && '--aaguids-block', options.aaguidsAny && '--aaguids-any', options.aaguidsInherit && '--aaguids-inherit'].filter(Boolean);
  if (aaguidChoices.length > 1) throw new AppError('invalid_input', `give only one of ${aaguidChoices.join(', ')}`);
  const update: PolicyUpdate = {
    group: options.group,
    syncedPasskeys: options.synced,
    requireAttestation: options.requireAttestation === undefined ? undefined : options.requireAttestation === 'inherit' ? 'inherit' : options.requireAttestation === 'true',
    aaguids: options.aaguidsAllow
      ? { mode: 'allow', aaguids: options.aaguidsAllow }
      : options.aaguidsBlock
        ? { mode: 'block', aaguids: options.aaguidsBlock }
        : options.aaguidsAny
          ? { mode: 'any' }
          : options.aaguidsInherit
            ? { mode: 'inherit' }
            : undefined,
  };
  if (update.syncedPasskeys === undefined && update.requireAttestation === undefined && update.aaguids === undefined) {
    throw new AppError('invalid_input', 'nothing to change: give --synced, --aaguids-allow, --aaguids-block, --aaguids-any or --require-attestation');
  }
  return update;
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('Which passkeys are accepted: synced or device-bound, authenticator models (AAGUID), verified attestation');

  policy
    .command('show')
    .description('The deployment policy and every group override')
    .action(async () => {
      const svc = await services();
      const { deployment, overrides } = await svc.policies.describe();
      print({ deployment: policyJson(deployment as AuthenticatorPolicy), groups: overrides.map((entry) => ({ group_id: entry.groupId, group: entry.group, override: policyJson(entry.override) })) });
    });

  policy
    .command('set')
    .description('Change the deployment policy, or with --group that group\'s override (settings left out are kept; a group inherits what its override does not name)')
    .option('--group <name>', 'change this group\'s override instead of the deployment policy')
    .option('--synced <choice>', 'allow | deny synced (backup-eligible) passkeys; inherit (group only)', choice('--synced', ['allow', 'deny', 'inherit'] as const))
    .option('--aaguids-allow <aaguids>', 'accept only these authenticator models (comma-separated AAGUIDs)', aaguidList)
    .option('--aaguids-block <aaguids>', 'refuse these authenticator models (comma-separated AAGUIDs)', aaguidList)
    .option('--aaguids-any', 'accept any authenticator model (drops the allow or block list)')
    .option('--aaguids-inherit', 'group only: use the deployment policy\'s model rule again')
    .option('--require-attestation <choice>', 'true | false; inherit (group only)', choice('--require-attestation', ['true', 'false', 'inherit'] as const))
    .option('--dry-run', 'change nothing: print the policy it would make and who would be refused')
    .action(async (options: SetOptions) => {
      const svc = await servicesWithMetadata();
      const result = await svc.policies.set(updateOf(options), CLI_ACTOR, { dryRun: options.dryRun });
      print({
        applied: result.applied,
        deployment: policyJson(result.policy.deployment),
        ...(result.group ? { group: result.group.displayName ?? result.group.id, group_id: result.group.id, override: policyJson(result.policy.groups[result.group.id] ?? {}) } : {}),
        affected: affectedJson(result.affected),
      });
    });

  policy
    .command('clear')
    .description('Remove a group\'s override: its members follow the deployment policy again')
    .requiredOption('--group <name>', 'the group whose override to remove')
    .option('--dry-run', 'change nothing: print who would be refused afterwards')
    .action(async (options: { group: string; dryRun?: boolean }) => {
      const svc = await servicesWithMetadata();
      const result = await svc.policies.clear(options.group, CLI_ACTOR, { dryRun: options.dryRun });
      print({ applied: result.applied, group: options.group, affected: affectedJson(result.affected) });
    });

  policy
    .command('affected')
    .description('People holding a passkey the policy in force refuses (created before it tightened)')
    .action(async () => {
      const svc = await servicesWithMetadata();
      print(affectedJson(await svc.policies.affected()));
    });
}
