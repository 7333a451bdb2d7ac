/**
 * `npm test`: makes the prerequisites ready (test/setup/prerequisites.ts), runs vitest with them,
 * and always stops what it started, also when the tests fail or the run is interrupted.
 * Arguments are passed on to vitest (`npm test -- test/scim`).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MissingPrerequisite, ensureChromium, ensureRedis, type RedisForTests } from './prerequisites.ts';

const log = (line: string) => console.log(`[npm test] ${line}`);

async function main(): Promise<number> {
  let redis: RedisForTests;
  let chromium: string;
  try {
    chromium = ensureChromium({ log });
    redis = await ensureRedis({ url: process.env.REDIS_URL, log });
  } catch (error) {
    if (error instanceof MissingPrerequisite) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }

  const vitest = path.join(path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TEST_REDIS_URL: redis.url, CHROMIUM_PATH: chromium },
  });
  let interrupted: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals) => {
    interrupted = signal;
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
  await redis.stop();
  if (redis.started) log('stopped the private redis-server');
  return interrupted ? 130 : code;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`npm test could not start: ${(error as Error).message}`);
    process.exit(1);
  },
);
