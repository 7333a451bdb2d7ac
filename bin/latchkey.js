#!/usr/bin/env node
// The operator CLI, compiled to dist/ by `npm run build:server` (run by `npm install` through the
// `prepare` script, and again by `npm start`): plain JavaScript, no TypeScript loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/server/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('latchkey: the CLI is not built yet; run `npm run build` (or `npm install`) in the Latchkey directory first');
  process.exit(1);
}
await import(entry.href);
