import { Duration } from 'aws-cdk-lib';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID } from '../../infra/local/issuer.js';
import { type RouteDefinition, SAMPLE_ROUTES } from '../../infra/sample/routes.js';

const WHOAMI = 'lambda/whoami/handler.ts';
/** The HTTP API sample as the local-run suites synthesize it: the sample's route and two of their own. */
export const ROUTES: readonly RouteDefinition[] = [
  SAMPLE_ROUTES[0] as RouteDefinition,
  {
    method: 'GET',
    path: '/items/{id}',
    entry: WHOAMI,
    id: 'GetItem',
    permission: { roles: ['Items.Read.All'] },
  },
  {
    method: 'DELETE',
    path: '/items/{id}',
    entry: WHOAMI,
    id: 'DeleteItem',
    permission: { scopes: ['Items.Admin'] },
  },
];
export const entra = {
  tenantId: LOCAL_TENANT_ID,
  clientId: LOCAL_CLIENT_ID,
  resultsCacheTtl: Duration.seconds(300),
};
