/** Where the OIDC endpoints live; shared by the provider, the CLI and the console. */
export const OIDC_ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  end_session: '/logout',
  revocation: '/revoke',
} as const;

export function oidcEndpoints(issuer: string) {
  return {
    issuer,
    discovery_url: `${issuer}/.well-known/openid-configuration`,
    jwks_uri: `${issuer}${OIDC_ROUTES.jwks}`,
    authorization_endpoint: `${issuer}${OIDC_ROUTES.authorization}`,
    token_endpoint: `${issuer}${OIDC_ROUTES.token}`,
    userinfo_endpoint: `${issuer}${OIDC_ROUTES.userinfo}`,
  };
}
