/**
 * Serves the built browser bundles (web/dist/assets) from memory: a fixed set of files read once
 * at start, so no request path ever reaches the file system.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import { BRAND_MARK_SVG } from './brand-mark.ts';

const types: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.map': 'application/json' };

export function staticAssets(directory: string): Middleware {
  const files = new Map<string, { body: Buffer; type: string }>();
  if (existsSync(directory)) {
    for (const name of readdirSync(directory)) {
      const type = types[path.extname(name)];
      if (type) files.set(`/assets/${name}`, { body: readFileSync(path.join(directory, name)), type });
    }
  }
  // The favicon: browsers ask for /favicon.ico whatever the page links, so both names answer.
  const favicon = { body: Buffer.from(BRAND_MARK_SVG), type: 'image/svg+xml' };
  files.set('/favicon.svg', favicon);
  files.set('/favicon.ico', favicon);
  return async (ctx, next) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = file.body;
  };
}

/**
 * The bundles sit at <project>/web/dist/assets whether this module runs from server/ (tests, tsx)
 * or compiled from dist/server/ (`npm start`): found from the nearest package.json up.
 */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

export const assetsDirectory = path.join(projectRoot(import.meta.dirname), 'web/dist/assets');
