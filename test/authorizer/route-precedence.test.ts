import { describe, expect, it } from 'vitest';
import { authorizerFor, grantee, iamAllows } from '../helpers/policy-oracle.js';

const BASE = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';

/*
 * On one resource, a method declared by name serves its requests and ANY serves the methods not declared
 * ("ANY ... a catch-all for the methods not set up on the resource", API Gateway's method docs). The rule
 * of the method that serves the request is the one that decides, whichever order the table lists them in.
 */
describe('a named method before ANY on the same resource', () => {
  const reader = grantee(['Items.Read'], []);
  const admin = grantee([], ['Items.Admin']);

  for (const path of ['/', '/items', '/items/{id}']) {
    const concrete = path.replace('{id}', '42');
    const rules = {
      [`GET ${path}`]: { scopes: ['Items.Read'] },
      [`ANY ${path}`]: { roles: ['Items.Admin'] },
    };
    const orders = {
      'GET first': rules,
      'ANY first': Object.fromEntries(Object.entries(rules).reverse()),
    };
    for (const [order, table] of Object.entries(orders)) {
      it(`${path}, ${order}: GET is GET's rule, every other method ANY's`, async () => {
        const asReader = authorizerFor(table, '', reader);
        const asAdmin = authorizerFor(table, '', admin);
        const arn = (method: string) => `${BASE}/${method}${concrete}`;
        expect((await asReader(arn('GET'))).outcome).toBe('allow');
        expect((await asAdmin(arn('GET'))).outcome).toBe('deny');
        for (const method of ['POST', 'DELETE', 'PATCH']) {
          expect((await asReader(arn(method))).outcome).toBe('deny');
          expect((await asAdmin(arn(method))).outcome).toBe('allow');
        }
        // The reader's cached GET policy admits no method that ANY serves.
        const cached = await asReader(arn('GET'));
        for (const method of ['POST', 'PUT', 'DELETE'])
          expect(iamAllows(cached.result, arn(method))).toBe(false);
      });
    }
  }
});

describe('what a refused caller is told the route requires', () => {
  it('names each scope and role of the rule, the alternatives joined by "or"', async () => {
    const table = {
      'GET /items': { scopes: ['Items.Read', 'Items.ReadWrite'], roles: ['Items.Admin'] },
      'GET /scoped': { scopes: ['Only.Scope'] },
      'GET /roled': { roles: ['Only.Role', 'Other.Role'] },
    };
    const nobody = authorizerFor(table, '', grantee(['Unrelated'], []));
    const items = (await nobody(`${BASE}/GET/items`)).detail ?? '';
    expect(items).toContain('scope Items.Read or Items.ReadWrite');
    expect(items).toContain('or role Items.Admin');
    const scoped = (await nobody(`${BASE}/GET/scoped`)).detail ?? '';
    expect(scoped).toContain('scope Only.Scope');
    expect(scoped).not.toContain('role');
    const roled = (await nobody(`${BASE}/GET/roled`)).detail ?? '';
    expect(roled).toContain('role Only.Role or Other.Role');
    expect(roled).not.toContain('scope');
  });
});
