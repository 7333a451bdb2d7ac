/**
 * The job runner's backoff rules on a real SQLite store with a movable clock: rate-limit waits
 * pause the queue without counting as failures; upstream outages back off on the queue's run of
 * failures, capped, pause after three and resume every job on the first success.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import { createLogger } from '../../server/logger.ts';
import { createJobRunner, type JobOutcome } from '../../server/workers/job-runner.ts';
import { queueHealth } from '../../server/workers/queue-pause.ts';
import type { Store } from '../../server/ports/storage.ts';
import { movableClock } from '../okta/helpers.ts';

describe('job runner backoff', () => {
  let store: Store;
  let dir: string;
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(outcomesAt: (now: number) => JobOutcome[], keys = ['a', 'b', 'c']) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-runner-'));
    store = await openSqliteStore({ dataDir: dir });
    const clock = movableClock();
    const outcomes = outcomesAt(clock.now());
    const tried: string[] = [];
    const runner = createJobRunner({
      queue: 'test',
      jobs: store.jobs,
      settings: store.settings,
      clock,
      logger: createLogger('silent'),
      handler: async (job) => {
        tried.push(job.key);
        return outcomes.shift() ?? { kind: 'done' };
      },
      baseBackoffMs: 1_000,
      maxBackoffMs: 5 * 60_000,
      outageMaxBackoffMs: 15_000,
      maxAttempts: 3,
    });
    for (const key of keys) await store.jobs.enqueue({ queue: 'test', key, payload: {}, runAt: clock.now() });
    return { runner, clock, tried };
  }

  it('a 429 pauses the whole queue until the reset, and many of them do not grow the next error backoff', async () => {
    const limited = (at: number): JobOutcome => ({ kind: 'retry', reason: 'rate_limited', error: '429', at });
    const { runner: run, clock, tried } = await setUp((now) => [limited(now + 5_000), limited(now + 10_000), limited(now + 15_000), limited(now + 20_000), { kind: 'retry', reason: 'unavailable', error: '500' }], ['a']);
    expect(await run.drain()).toBe(1);
    expect((await queueHealth(store.settings, 'test')).state).toBe('rate_limited');
    // Another job due now still waits for the reset: nothing is sent before it.
    await store.jobs.enqueue({ queue: 'test', key: 'other', payload: {}, runAt: clock.now() });
    expect(await run.drain()).toBe(0);
    clock.advance(4_000);
    expect(await run.drain()).toBe(0);
    for (let step = 0; step < 3; step++) {
      clock.advance(5_000);
      expect(await run.drain()).toBe(1); // a again: 429 with the next reset
    }
    clock.advance(5_000);
    expect(await run.drain()).toBe(2); // a gets the 500; one 500 is no outage, so 'other' goes too
    const job = (await store.jobs.get('test', 'a'))!;
    expect(job.lastError).toBe('500');
    // After four 429s, a 500: the next try is one base delay away (0.5-1 s), not 2^attempts of
    // it, and no job failed although the queue was tried five times with maxAttempts 3.
    expect(job.state).toBe('pending');
    expect(job.runAt - clock.now()).toBeLessThanOrEqual(1_000);
    expect((await store.jobs.counts('test')).failed).toBe(0);
  });

  it('three upstream failures in a row pause the queue at a capped backoff; the first success resumes every job', async () => {
    const down: JobOutcome = { kind: 'retry', reason: 'unavailable', error: 'ECONNREFUSED' };
    const { runner, clock, tried } = await setUp(() => Array.from({ length: 12 }, () => down));
    await runner.drain(); // three failures, then the queue pauses
    expect(tried).toHaveLength(3);
    let health = await queueHealth(store.settings, 'test');
    expect(health).toMatchObject({ state: 'outage', consecutiveFailures: 3 });
    for (let probe = 0; probe < 9; probe++) {
      clock.advance(15_000);
      expect(await runner.drain()).toBe(1); // one probe per wait
    }
    health = await queueHealth(store.settings, 'test');
    expect(health.consecutiveFailures).toBe(12);
    expect(health.nextAttemptAt! - clock.now()).toBeLessThanOrEqual(15_000); // capped, not 2^12 s
    clock.advance(15_000);
    expect(await runner.drain()).toBe(3); // the probe succeeds, and the other two go at once
    expect((await queueHealth(store.settings, 'test')).state).toBe('sending');
    expect((await store.jobs.counts('test')).done).toBe(3);
  });
});
