import type { Command } from 'commander';
import type { GroupRecord } from '../../ports/storage.ts';
import { CLI_ACTOR, iso, print, services, toInt } from '../context.ts';

const describeGroup = (group: GroupRecord, extra: Record<string, unknown> = {}) => ({
  id: group.id,
  display_name: group.displayName,
  external_id: group.externalId,
  created_at: iso(group.createdAt),
  updated_at: iso(group.updatedAt),
  ...extra,
});

export function registerGroupCommands(program: Command): void {
  const groups = program.command('groups').description('Groups decide who may sign in to which app');

  groups
    .command('create <name>')
    .action(async (name: string) => {
      const svc = await services();
      print(describeGroup(await svc.groups.create({ displayName: name }, CLI_ACTOR), { members: 0 }));
    });

  groups
    .command('list')
    .option('--search <text>')
    .option('--limit <n>', 'page size', toInt('--limit'), 100)
    .option('--offset <n>', 'skip this many', toInt('--offset'), 0)
    .action(async (options: { search?: string; limit: number; offset: number }) => {
      const svc = await services();
      const page = await svc.groups.list({ search: options.search, offset: options.offset, limit: Math.min(options.limit, 1000) });
      const counts = await svc.groups.memberCounts(page.items.map((group) => group.id));
      print({ total: page.total, items: page.items.map((group) => describeGroup(group, { members: counts.get(group.id) ?? 0 })) });
    });

  groups
    .command('members <group>')
    .action(async (name: string) => {
      const svc = await services();
      const group = await svc.groups.resolve(name);
      const members = await Promise.all((await svc.groups.members(group.id)).map(async (id) => {
        const identity = await svc.store.identities.get(id);
        return { id, username: identity?.userName ?? null };
      }));
      print(describeGroup(group, { members }));
    });

  for (const [name, add] of [['add-member', true], ['remove-member', false]] as const) {
    groups
      .command(`${name} <group> <usernames...>`)
      .action(async (groupName: string, usernames: string[]) => {
        const svc = await services();
        const group = await svc.groups.resolve(groupName);
        const ids = await Promise.all(usernames.map(async (username) => (await svc.identities.resolve(username)).id));
        const saved = await svc.groups.change(group.id, { members: add ? { add: ids } : { remove: ids } }, CLI_ACTOR);
        print(describeGroup(saved, { members: (await svc.groups.memberCounts([group.id])).get(group.id) ?? 0 }));
      });
  }

  groups
    .command('delete <group>')
    .action(async (name: string) => {
      const svc = await services();
      const group = await svc.groups.resolve(name);
      await svc.groups.remove(group.id, CLI_ACTOR);
      print({ deleted: group.id, display_name: group.displayName });
    });
}
