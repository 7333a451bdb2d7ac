/**
 * What every console route module receives, and the two helpers they share: input parsing with
 * zod (a failure names the field) and the acting admin.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Services } from '../../../bootstrap.ts';
import type { AdminService } from '../../../domain/admins.ts';
import { AppError } from '../../../domain/errors.ts';
import type { EnrollmentMail } from '../../../domain/enrollment-mail.ts';
import { adminActor, type Actor } from '../../../domain/actor.ts';

/**
 * The Okta connection as the console needs it. Provided by the composition root (app.ts) from the
 * Okta edge, so the two edges stay independent.
 */
export interface OktaConnectionControls {
  status(options: { check: boolean }): Promise<{ connection: object } & Record<string, unknown>>;
  configure(input: { domain: string; token: string }, actor: Actor): Promise<unknown>;
  /** People whose registration flag could not be written to Okta, with Okta's reason. */
  failures(): Promise<Array<{ identityId: string; userName: string | null; state: string; error: string; attempts: number; at: string }>>;
  /** Re-queues one person's failed delivery, or all of them; returns how many. */
  retry(identityId?: string): Promise<number>;
  /** Compares every person's flag in Okta with Latchkey and queues corrections. */
  reconcile(): Promise<unknown>;
}

export interface AdminRouteDeps {
  services: Services;
  admins: AdminService;
  enrollmentMail: EnrollmentMail;
  okta: OktaConnectionControls;
  /** The SCIM base URL Okta provisions to. */
  scimUrl: string;
}

export type AdminRouter = Router;

export function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new AppError('invalid_input', `${issue.path.join('.') || 'input'}: ${issue.message}`, { field: issue.path.join('.') || undefined });
  }
  return result.data;
}

/** The audit actor for the signed-in admin making this request. */
export const actorOf = (ctx: Context): Actor => adminActor(ctx.state.consoleSession!.identity.id);
