import type { Command } from 'commander';
import { CLI_ACTOR, print, services } from '../context.ts';
import { configureOkta, oktaStatus } from '../../edges/okta/okta-configure.ts';
import { reconcileOkta } from '../../edges/okta/okta-reconcile.ts';
import { DEFAULT_GROUP, DEFAULT_IDP_NAME, DEFAULT_RULE_NAME, setupOkta } from '../../edges/okta/okta-setup.ts';
import { doctorOkta } from '../../edges/okta/okta-doctor.ts';
import { AppError } from '../../domain/errors.ts';
import { isOktaApiError } from '../../ports/okta-directory.ts';

/** An Okta API failure becomes the CLI's one line, naming Okta and quoting its errorSummary. */
async function okta<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isOktaApiError(error)) throw new AppError('upstream', `Okta API: ${error.message}`, { cause: error });
    throw error;
  }
}

export function registerOktaCommands(program: Command): void {
  const oktaCommand = program.command('okta').description('Connect Okta: the byndidRegistered flag, one-command setup, doctor');

  oktaCommand
    .command('configure')
    .description('Store the Okta org URL and API token (checked against Okta, kept encrypted)')
    .requiredOption('--domain <url>', 'the Okta org URL without -admin, e.g. https://dev-123456.okta.com')
    .requiredOption('--token <token>', 'an Okta API token (Security > API > Tokens)')
    .action(async (options: { domain: string; token: string }) => {
      print(await okta(async () => configureOkta(await services(), options, CLI_ACTOR)));
    });

  oktaCommand
    .command('status')
    .description('The connection, the delivery queue and how many people are flagged true / false')
    .option('--offline', 'do not call Okta to check the token')
    .action(async (options: { offline?: boolean }) => {
      print(await oktaStatus(await services(), { check: !options.offline }));
    });

  oktaCommand
    .command('reconcile')
    .description("Compare every identity's flag with Okta's and fix drift")
    .option('--dry-run', 'only report the drift')
    .action(async (options: { dryRun?: boolean }) => {
      print(await okta(async () => reconcileOkta(await services(), { dryRun: !!options.dryRun })));
    });

  oktaCommand
    .command('setup')
    .description('Create the attribute, group, identity provider and routing rule in Okta (idempotent)')
    .option('--group <name>', 'Okta group for passkey users', DEFAULT_GROUP)
    .option('--idp-name <name>', 'name of the identity provider in Okta', DEFAULT_IDP_NAME)
    .option('--rule-name <name>', 'name of the routing rule in Okta', DEFAULT_RULE_NAME)
    .option('--dry-run', 'print the plan without changing anything')
    .action(async (options: { group: string; idpName: string; ruleName: string; dryRun?: boolean }) => {
      print(await okta(async () => setupOkta(await services(), { group: options.group, idpName: options.idpName, ruleName: options.ruleName, dryRun: !!options.dryRun }, CLI_ACTOR)));
    });

  oktaCommand
    .command('doctor')
    .description('Check the whole Okta chain: pass / warn / fail with a fix for each')
    .action(async () => {
      const report = await doctorOkta(await services());
      print(report);
      if (!report.ok) {
        const failing = report.checks.filter((check) => check.status === 'fail').map((check) => check.check);
        process.stderr.write(`latchkey: okta doctor found ${failing.length} failing check(s): ${failing.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
}
