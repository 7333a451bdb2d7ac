/** The three kinds of application and how the console names them. */
import type { AppView } from '../../../server/edges/admin/views.ts';

export const kindLabels: Record<AppView['kind'], string> = { okta: 'Okta (OIDC)', oidc: 'OpenID Connect', bookmark: 'Bookmark' };
