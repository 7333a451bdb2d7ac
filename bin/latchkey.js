#!/usr/bin/env node
// The operator CLI. Runs the TypeScript sources through tsx, the same way `npm start` does.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli/main.ts');
