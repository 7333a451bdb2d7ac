/**
 * A running Latchkey with a SCIM token, and a client that talks to it the way Okta's "SCIM 2.0
 * Test App (OAuth Bearer Token)" does (test/support/scim.ts).
 */
import { startTestServer, type StoreKind, type TestServer } from '../support/test-server.ts';
import { createScimToken } from '../support/builders.ts';
import { scimClient, type ScimRequest } from '../support/scim.ts';

export { SCIM, query, type ScimResponse, type ScimRequestOptions } from '../support/scim.ts';

export interface ScimHarness {
  server: TestServer;
  token: string;
  tokenId: string;
  base: string;
  request: ScimRequest;
  close(): Promise<void>;
}

export async function startScimHarness(store: StoreKind, env: Record<string, string> = {}): Promise<ScimHarness> {
  const server = await startTestServer({ store, env });
  const { token, info } = await createScimToken(server);
  const base = `${server.url}/scim/v2`;
  return { server, token, tokenId: info.id, base, request: scimClient(base, token), close: () => server.close() };
}
