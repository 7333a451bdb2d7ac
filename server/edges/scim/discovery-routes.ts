/**
 * Discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes, /Schemas. Okta does not call
 * them; other SCIM clients do. They answer only what this server really supports (see
 * scim-schemas.ts, the same definitions the mappers use).
 */
import Router from '@koa/router';
import { scimError, sendScim } from './scim-errors.ts';
import { URN, resourceTypeDocuments, schemaDocuments, serviceProviderConfig } from './scim-schemas.ts';

export function createDiscoveryRoutes(deps: { baseUrl: string }): Router {
  const { baseUrl } = deps;
  const router = new Router();
  const config = serviceProviderConfig(baseUrl);
  const resourceTypes = resourceTypeDocuments(baseUrl);
  const schemas = schemaDocuments(baseUrl);
  const list = (resources: unknown[]) => ({ schemas: [URN.listResponse], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });

  router.get('/ServiceProviderConfig', (ctx) => sendScim(ctx, 200, config));
  router.get('/ResourceTypes', (ctx) => sendScim(ctx, 200, list(resourceTypes)));
  router.get('/ResourceTypes/:id', (ctx) => {
    const found = resourceTypes.find((type) => type.id.toLowerCase() === ctx.params.id.toLowerCase());
    if (!found) throw scimError.notFound(`no ResourceType "${ctx.params.id}"; there are ${resourceTypes.map((type) => type.id).join(', ')}`);
    sendScim(ctx, 200, found);
  });
  router.get('/Schemas', (ctx) => sendScim(ctx, 200, list(schemas)));
  router.get('/Schemas/:id', (ctx) => {
    const found = schemas.find((schema) => schema.id.toLowerCase() === ctx.params.id.toLowerCase());
    if (!found) throw scimError.notFound(`no Schema "${ctx.params.id}"; there are ${schemas.map((schema) => schema.id).join(', ')}`);
    sendScim(ctx, 200, found);
  });
  return router;
}
