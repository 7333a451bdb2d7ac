/**
 * A create the server answered survives the process being killed (SQLite: WAL with
 * synchronous = NORMAL; creates arriving together share one commit, adapters/sqlite/group-commit.ts):
 * Okta sends a burst of creates, the process is SIGKILLed the moment the last 201 arrives, and the
 * store opened again holds every person it answered for, each with the audit event of its create.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config.ts';
import { createServices, openStore } from '../../server/bootstrap.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import { startServerProcess } from '../support/server-process.ts';
import { scimClient, scimUserBody } from '../support/scim.ts';

const CREATES = 40;

describe('crash durability (real server process, SQLite)', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('every create answered 201 before a SIGKILL is there after it, with its audit event', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-crash-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, SCIM_RATE_LIMIT_PER_SECOND: '0' };
    const config = loadConfig({ ...env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    const setup = await openStore(config);
    const { token } = await createServices(config, setup).scimTokens.create({ name: 'crash test' }, CLI_ACTOR);
    await setup.close();

    const server = await startServerProcess({ env, dataDir });
    cleanups.push(() => server.stop('SIGKILL'));
    const scim = scimClient(`${server.url}/scim/v2`, token);
    const answers = await Promise.all(
      Array.from({ length: CREATES }, (_, index) => scim('POST', '/Users', { body: scimUserBody(`crash${index}@example.com`) })),
    );
    expect(await server.stop('SIGKILL')).toBeNull();
    expect(answers.map((answer) => answer.status)).toEqual(Array(CREATES).fill(201));

    const store = await openStore(config);
    cleanups.push(() => store.close());
    for (const answer of answers) {
      const { id, userName } = answer.body as { id: string; userName: string };
      expect((await store.identities.get(id))?.userName).toBe(userName);
      expect(await store.audit.list({ target: `identity:${id}`, limit: 10 })).toMatchObject([{ action: 'identity.create' }]);
    }
  });
});
