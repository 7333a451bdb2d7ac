/**
 * `npm run okta-sim`: the Okta emulator on its own, for local development against Latchkey.
 * OKTA_SIM_PORT chooses the port (default 4111). Prints the org URL and a super admin API token.
 */
import { startOktaSim } from './okta-sim.ts';

const port = Number(process.env.OKTA_SIM_PORT ?? 4111);
const sim = await startOktaSim({ port });
sim.addUser({ login: 'alice@example.com', firstName: 'Alice', lastName: 'Example' });
sim.addUser({ login: 'bob@example.com', firstName: 'Bob', lastName: 'Example' });

process.stdout.write(
  [
    `Simulated Okta org listening on ${sim.url} (end-user sign-in at ${sim.url}/login)`,
    `API token (SSWS, super admin ${sim.admin.profile.login}): ${sim.token}`,
    'Users: admin@example.com, alice@example.com, bob@example.com',
    `Connect Latchkey: npx latchkey okta configure --domain ${sim.url} --token ${sim.token}`,
    '',
  ].join('\n'),
);

const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
