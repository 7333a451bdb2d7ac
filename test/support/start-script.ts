/**
 * package.json's start script (what `npm start` runs) as node flags and the compiled entry:
 * `node [--flag[=value] ...] dist/server/main.js`. The tests (server-process.ts) and the benchmarks
 * start the server with exactly these, so neither drifts from production. No vitest import here:
 * the benchmarks run outside vitest.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export function startScript(): { flags: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const match = /^node((?: --[a-z0-9-]+(?:=\S+)?)*) (\S+\.js)$/.exec(pkg.scripts.start.trim());
  if (!match) throw new Error(`"npm start" is now "${pkg.scripts.start}"; update test/support/start-script.ts to read it`);
  return { flags: match[1].split(' ').filter(Boolean), entry: match[2] };
}
