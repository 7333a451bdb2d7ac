/** Said on the pages whose values go into Okta, while Okta could not reach this server. */
export function ReachabilityNote({ problem }: { problem: string | null | undefined }) {
  if (!problem) return null;
  return (
    <p class="notice notice-warn" role="note">
      <strong>A real Okta org cannot reach this server.</strong> {problem} Okta calls the token endpoint and the SCIM URL from its cloud, so set <code>PUBLIC_URL</code> to an https address it can reach: see the README section “A real Okta org from a laptop”.
    </p>
  );
}
