/**
 * Storage contract: the keys identities are unique by (server/ports/identity-keys.ts). Registered by
 * describeStoreContract. Every store must refuse, atomically, a userName that is the same after
 * NFKC + case folding or that has the same TR39 confusable skeleton, and a second identity with
 * the same email after the same normalisation.
 */
import { describe, it, expect } from 'vitest';
import { expectStoreError, expectWinners, identity, NOW, type ContractContext } from './fixtures.ts';

export function describeIdentityKeysContract(ctx: ContractContext): void {
  describe('identity keys', () => {
    it('treats precomposed and decomposed, fullwidth and folded userNames as one name', async () => {
      const [jose] = await ctx.createIdentities(identity({ userName: 'jos\u00e9' }));
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'jose\u0301' })), 'conflict', 'userName');
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'JOSE\u0301' })), 'conflict', 'userName');
      expect((await ctx.store.identities.getByUserName('JOSE\u0301'))?.id).toBe(jose.id);
      const page = await ctx.store.identities.query({ filter: { attr: 'userName', value: 'Jose\u0301' }, offset: 0, limit: 10, now: NOW });
      expect(page.items.map((item) => item.id)).toEqual([jose.id]);

      const [mallory] = await ctx.createIdentities(identity({ userName: 'mallory' }));
      await expectStoreError(ctx.store.identities.create(identity({ userName: '\uff4dallory' })), 'conflict', 'userName');
      expect((await ctx.store.identities.getByUserName('\uff2d\uff21LLORY'))?.id).toBe(mallory.id);
      await ctx.createIdentities(identity({ userName: 'Stra\u00dfe' }));
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'STRASSE' })), 'conflict', 'userName');
    });

    it('refuses a userName whose confusable skeleton another one has, on create and update', async () => {
      const [mallory, other] = await ctx.createIdentities(identity({ userName: 'mallory' }), identity({ userName: 'trent' }));
      // Cyrillic "а" (U+0430) and "rn" for "m" look like the ASCII name.
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'm\u0430llory' })), 'conflict', 'userNameSkeleton');
      await expectStoreError(ctx.store.identities.create(identity({ userName: 'rnallory' })), 'conflict', 'userNameSkeleton');
      await expectStoreError(ctx.store.identities.update({ ...other, userName: 'rnallory' }, other.version), 'conflict', 'userNameSkeleton');
      expect((await ctx.store.identities.getByUserName('m\u0430llory'))).toBeNull();
      // Renaming releases the skeleton for someone else.
      await ctx.store.identities.update({ ...mallory, userName: 'mal' }, mallory.version);
      await ctx.store.identities.create(identity({ userName: 'rnallory' }));
    });

    it('keeps email unique after normalisation, on create, on update and when two race', async () => {
      const [ann, bob] = await ctx.createIdentities(
        identity({ email: 'Ann@Example.test' }),
        identity({ email: 'bob@example.test' }),
      );
      await expectStoreError(ctx.store.identities.create(identity({ email: 'ann@EXAMPLE.test' })), 'conflict', 'email');
      await expectStoreError(ctx.store.identities.create(identity({ email: '\uff41nn@example.test' })), 'conflict', 'email');
      await expectStoreError(ctx.store.identities.update({ ...bob, email: 'ANN@example.test' }, bob.version), 'conflict', 'email');
      expect(await ctx.store.identities.get(bob.id)).toEqual(bob);
      const found = await ctx.store.identities.query({ filter: { attr: 'email', value: 'ANN@example.TEST' }, offset: 0, limit: 10, now: NOW });
      expect(found.items.map((item) => item.id)).toEqual([ann.id]);

      // Changing only the case of one's own address is no conflict; moving away frees it.
      await ctx.store.identities.update({ ...ann, email: 'ann@example.test' }, ann.version);
      await ctx.store.identities.update({ ...bob, email: 'robert@example.test' }, bob.version);
      await ctx.store.identities.create(identity({ email: 'BOB@example.test' }));

      await expectWinners(
        [
          ctx.store.identities.create(identity({ email: 'race@example.test' })).then(() => true),
          ctx.store.identities.create(identity({ email: 'RACE@example.test' })).then(() => true),
        ],
        1,
      );
    });

    it('frees every key of a deleted identity', async () => {
      const [gone] = await ctx.createIdentities(identity({ userName: 'gone', email: 'gone@example.test' }));
      await ctx.store.identities.delete(gone.id);
      await ctx.store.identities.create(identity({ userName: 'GONE', email: 'Gone@example.test' }));
    });
  });
}
