/** The provider's held writes (server/edges/oidc/provider-writes.ts), against a recording model repository. */
import { describe, expect, it } from 'vitest';
import type { OidcModelChange, OidcModelRepository } from '../../server/ports/storage.ts';
import { heldWrites, withProviderWrites } from '../../server/edges/oidc/provider-writes.ts';

function recording(options: { failWrite?: boolean } = {}) {
  const calls: string[] = [];
  const writes: OidcModelChange[][] = [];
  const models = {
    upsert: async (model: string, id: string) => void calls.push(`upsert ${model}:${id}`),
    destroy: async (model: string, id: string) => void calls.push(`destroy ${model}:${id}`),
    write: async (changes: OidcModelChange[]) => {
      calls.push(`write ${changes.map((change) => `${change.op} ${change.model}:${change.id}`).join(', ')}`);
      if (options.failWrite) throw new Error('store down');
      writes.push(changes);
    },
    find: async (model: string, id: string) => (calls.push(`find ${model}:${id}`), null),
    consume: async (model: string, id: string) => (calls.push(`consume ${model}:${id}`), true),
  } as unknown as OidcModelRepository;
  return { calls, writes, models };
}

const upsert = (held: OidcModelRepository, model: string, id: string, n: number) => held.upsert(model, id, { n }, null, {});

describe('provider writes held for one request', () => {
  it('go out at once outside a provider request', async () => {
    const { calls, models } = recording();
    const held = heldWrites(models);
    await upsert(held, 'Grant', 'g1', 1);
    await held.destroy('Interaction', 'i1');
    expect(calls).toEqual(['upsert Grant:g1', 'destroy Interaction:i1']);
  });

  it('commit together after the request, the last change of each model winning', async () => {
    const { calls, writes, models } = recording();
    const held = heldWrites(models);
    await withProviderWrites(models, async () => {
      await held.destroy('Interaction', 'i1');
      await upsert(held, 'Grant', 'g1', 1);
      await upsert(held, 'Session', 's1', 1);
      await upsert(held, 'Grant', 'g1', 2);
      expect(calls).toEqual([]);
    });
    expect(calls).toEqual(['write destroy Interaction:i1, upsert Session:s1, upsert Grant:g1']);
    expect(writes[0][2]).toMatchObject({ payload: { n: 2 } });
  });

  it('are committed before anything reads or consumes, so the request never reads past its own write', async () => {
    const { calls, models } = recording();
    const held = heldWrites(models);
    await withProviderWrites(models, async () => {
      await upsert(held, 'Session', 's1', 1);
      await held.find('Session', 's1', 0);
      await upsert(held, 'AccessToken', 't1', 1);
      await held.consume('AuthorizationCode', 'c1', 0);
    });
    expect(calls).toEqual(['write upsert Session:s1', 'find Session:s1', 'write upsert AccessToken:t1', 'consume AuthorizationCode:c1']);
  });

  it('fail the request when they cannot be committed', async () => {
    const { models } = recording({ failWrite: true });
    const held = heldWrites(models);
    await expect(withProviderWrites(models, async () => upsert(held, 'Grant', 'g1', 1))).rejects.toThrow('store down');
  });

  it('made before the provider failed are still committed, and the failure is what the request reports', async () => {
    const { calls, models } = recording();
    const held = heldWrites(models);
    await expect(withProviderWrites(models, async () => {
      await upsert(held, 'Session', 's1', 1);
      throw new Error('provider bug');
    })).rejects.toThrow('provider bug');
    expect(calls).toEqual(['write upsert Session:s1']);
  });
});
