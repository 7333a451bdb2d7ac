// Preload for a server under a benchmark (BENCH_SERVER_FLAGS="--require ./bench/sql-count.cjs", SQL_COUNT_FILE=path):
// counts every statement better-sqlite3 runs (a transaction's BEGIN and COMMIT are statements too), and
// writes the counts to $SQL_COUNT_FILE on SIGUSR2 (scim-create-probe.ts reads them per create).
const path = require('node:path');
const Database = require(path.resolve(__dirname, '../node_modules/better-sqlite3'));
const fs = require('node:fs');
const counts = new Map();
const bump = (key) => counts.set(key, (counts.get(key) ?? 0) + 1);
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = proto[method];
  proto[method] = function (...args) { bump(this.source.replace(/\s+/g, ' ').trim().slice(0, 90)); return original.apply(this, args); };
}
process.on('SIGUSR2', () => { fs.writeFileSync(process.env.SQL_COUNT_FILE, JSON.stringify([...counts])); });
