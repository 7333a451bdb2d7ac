/**
 * `npm run demo`: the whole integration guide on one machine, offline.
 * Starts Latchkey (the real server process, embedded store in a fresh directory) and a simulated
 * Okta org, then does what the guide's admin does, through the same CLI an operator uses:
 * `okta configure`, `okta setup`, a SCIM bearer token for Okta's SCIM app, Push Groups, the app
 * assignment, a console admin, and enrollment emails. Prints the two URLs to open; Ctrl-C stops both.
 *
 * DEMO_PORT (default 3000) and OKTA_SIM_PORT (default 4111) choose the ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { startOktaSim } from './okta-sim.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.env.DEMO_PORT ?? 3000);
const publicUrl = `http://localhost:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-demo-'));
const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: String(port), PUBLIC_URL: publicUrl, DATA_DIR: dataDir, STORE: 'sqlite', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
delete env.SMTP_URL;
const say = (line: string) => process.stdout.write(`${line}\n`);

/** One operator CLI command, as `npx latchkey …` runs it; its JSON answer. */
function latchkey(...args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/latchkey.js'), ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`latchkey ${args[0]} ${args[1] ?? ''} failed: ${err.trim() || out.trim()}`));
      try {
        resolve(JSON.parse(out) as Record<string, unknown>);
      } catch {
        reject(new Error(`latchkey ${args.join(' ')} printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}

async function waitForServer(child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`Latchkey exited with code ${child.exitCode} during start-up`);
    try {
      if ((await fetch(`${publicUrl}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Latchkey did not answer at ${publicUrl}/readyz within 60 s`);
}

/** Enrollment links from the development outbox, newest message per recipient. */
async function linksInOutbox(): Promise<Map<string, string>> {
  const outbox = path.join(dataDir, 'outbox');
  const links = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(outbox).filter((file) => file.endsWith('.eml')).sort();
  } catch {
    return links;
  }
  for (const file of files) {
    const mail = await simpleParser(readFileSync(path.join(outbox, file)));
    const to = Array.isArray(mail.to) ? mail.to[0]?.text : mail.to?.text;
    const link = /https?:\/\/\S+\/enroll\/[^\s"<>)]+/.exec(mail.text ?? '')?.[0];
    if (to && link) links.set(to, link);
  }
  return links;
}

const sim = await startOktaSim({ port: Number(process.env.OKTA_SIM_PORT ?? 4111) });
const server = spawn(process.execPath, [path.join(root, 'dist/server/main.js')], { env, cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const stop = async (code = 0) => {
  server.kill('SIGTERM');
  await sim.close();
  process.exit(code);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  await waitForServer(server);
  say(`Latchkey is up at ${publicUrl} (data in ${dataDir}); the simulated Okta org at ${sim.url}.`);

  // Stage III: the Okta API token and domain; Stage IV: attribute, group, IdP, routing rule.
  await latchkey('okta', 'configure', '--domain', sim.url, '--token', sim.token);
  const setup = await latchkey('okta', 'setup', '--group', 'Latchkey users');
  const groupStep = (setup.steps as Array<{ step: string; id?: string }>).find((step) => step.step === 'group')!;
  const appStep = (setup.steps as Array<{ step: string; id?: string }>).find((step) => step.step === 'latchkey_app')!;

  // People in the Okta directory, in the group the routing is for.
  const people = [
    sim.addUser({ login: 'alice@example.com', firstName: 'Alice', lastName: 'Smith' }),
    sim.addUser({ login: 'bob@example.com', firstName: 'Bob', lastName: 'Jones' }),
  ];
  for (const person of people) sim.addToGroup(groupStep.id!, person.id);

  // Stage II: the SCIM app in Okta, with a Latchkey bearer token; assign and push the group.
  const scim = await latchkey('scim-tokens', 'create', '--name', 'Okta SCIM Token');
  const push = sim.connectScimApp({ baseUrl: `${publicUrl}/scim/v2`, token: String(scim.token) });
  await sim.assignGroupToScimApp(groupStep.id!);
  await sim.pushGroupToScimApp(groupStep.id!);
  if (push.errors.length) throw new Error(`SCIM push failed: ${push.errors.join('; ')}`);

  // Stage IV: assign the Latchkey app to the pushed group, then enroll everyone by email.
  await latchkey('apps', 'assign', appStep.id!, '--group', 'Latchkey users');
  const admin = await latchkey('admins', 'add', 'admin@example.com', '--ttl', '24h');
  await latchkey('enroll', '--group', 'Latchkey users', '--send', '--wait', '1m');
  const links = await linksInOutbox();

  say('');
  say('Ready. Walk the guide in a browser:');
  say(`  1. Enroll a passkey (the invitation emails are in ${path.join(dataDir, 'outbox')}):`);
  for (const person of people) say(`       ${person.profile.login}: ${links.get(person.profile.login) ?? '(no email found; see the outbox)'}`);
  say('     Within seconds Latchkey sets byndidRegistered=true on the person at Okta.');
  say(`     Okta API token (SSWS) of the org's super admin: ${sim.token}`);
  say(`  2. Sign in at Okta: ${sim.url}/login  (type alice@example.com; Okta routes you to Latchkey)`);
  say(`     Someone without a passkey gets Okta's password page (password: Password-1234).`);
  say(`  3. The Latchkey console: ${publicUrl}/admin  (first create your admin passkey: ${String(admin.enrollment_link)})`);
  say('Ctrl-C stops both.');
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  await stop(1);
}
