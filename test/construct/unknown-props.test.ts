import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { describe, expect, it } from 'vitest';
import { EntraHttpAuthorizer } from '../../infra/construct/entra-http-authorizer.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { EntraWebSocketAuthorizer } from '../../infra/construct/entra-websocket-authorizer.js';
import { PropsError } from '../../infra/construct/errors.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

// The props as a JavaScript app writes them: no type stands between a misspelling and the construct.
type Untyped = Record<string, unknown>;
type Make = (stack: Stack, props: Untyped) => unknown;
const CONSTRUCTS: Record<string, Make> = {
  EntraTokenAuthorizer: (stack, props) => new EntraTokenAuthorizer(stack, 'Entra', props as never),
  EntraHttpAuthorizer: (stack, props) => new EntraHttpAuthorizer(stack, 'Entra', props as never),
  EntraWebSocketAuthorizer: (stack, props) => new EntraWebSocketAuthorizer(stack, 'Entra', props as never),
};

function errorOf(run: () => unknown): Error | undefined {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

const make = (name: string, props: Untyped) => () =>
  (CONSTRUCTS[name] as Make)(new Stack(testApp(), 'S'), { tenantId: TENANT, clientId: CLIENT, ...props });

/**
 * The props docs/configuration.md documents for EntraTokenAuthorizer: the backquoted names of its props
 * table's construct column (a route rule's `groups` and the sample stack's options are not props).
 */
function documentedProps(): string[] {
  const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const header = page.split('\n').findIndex((line) => line.includes('| `EntraTokenAuthorizer` prop'));
  const props: string[] = [];
  for (const line of page.split('\n').slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cell = (line.split('|')[2] ?? '').split(';')[0] as string;
    if (cell.includes('sample stack')) continue;
    for (const [, name] of cell.matchAll(/`(\w+)`/g)) props.push(name as string);
  }
  return [...new Set(props)];
}

describe('a prop the construct does not have fails the synth, naming it', () => {
  it.each(Object.keys(CONSTRUCTS))('%s: a misspelled prop, with the prop it likely meant', (name) => {
    const misspelled = name === 'EntraWebSocketAuthorizer' ? 'requiredScope' : 'routePermission';
    const meant = `${misspelled}s`;
    const value =
      name === 'EntraWebSocketAuthorizer' ? ['Items.Read'] : { 'GET /items': { roles: ['Admin'] } };
    const error = errorOf(make(name, { [misspelled]: value }));
    expect(error).toBeInstanceOf(PropsError);
    expect(error?.message).toBe(
      `${name}: ${misspelled} must be one of its props (did you mean ${meant}?); got ${JSON.stringify(value)}`,
    );
  });

  it.each(Object.keys(CONSTRUCTS))('%s: a key near no prop, with the list of its props', (name) => {
    const error = errorOf(make(name, { colour: 'blue' }));
    expect(error).toBeInstanceOf(PropsError);
    expect(error?.message).toMatch(
      new RegExp(`^${name}: colour must be one of its props \\(tenantId, .*\\); got "blue"$`),
    );
    expect(error?.message).toContain('requiredScopes');
  });

  it.each(Object.keys(CONSTRUCTS))(
    '%s: a key written with an undefined value is still a misspelling',
    (name) => {
      expect(errorOf(make(name, { clientID: undefined }))?.message).toBe(
        `${name}: clientID must be one of its props (did you mean clientId?); got nothing`,
      );
    },
  );

  it.each(Object.keys(CONSTRUCTS))('%s: no props object at all', (name) => {
    const error = errorOf(() => (CONSTRUCTS[name] as Make)(new Stack(testApp(), 'S'), undefined as never));
    expect(error?.message).toBe(`${name}: props must be an object of its props; got nothing`);
  });

  it('a route rule with a misspelled key (scope for scopes) fails too', () => {
    const error = errorOf(
      make('EntraTokenAuthorizer', { routePermissions: { 'GET /items': { scope: ['A'] } } }),
    );
    expect(error).toBeInstanceOf(PropsError);
    expect(error?.message).toContain('routePermissions');
    expect(error?.message).toContain('only "scopes", "roles", "clientApps" and "groups"');
    const http = errorOf(
      make('EntraHttpAuthorizer', { routePermissions: { 'GET /items': { scope: ['A'] } } }),
    );
    expect(http).toBeInstanceOf(PropsError);
    expect(http?.message).toContain('"scopes"');
  });

  it("addGatewayResponses' and addAlarms' options: a misspelled option", () => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
    const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
    api.root.addMethod('GET', new MockIntegration());
    expect(errorOf(() => entra.addGatewayResponses(api, { allowOrigins: '*' } as never))?.message).toBe(
      'addGatewayResponses: allowOrigins must be one of its props (did you mean allowOrigin?); got "*"',
    );
    expect(errorOf(() => entra.addAlarms({ unauthorizedTreshold: 5 } as never))?.message).toBe(
      'addAlarms: unauthorizedTreshold must be one of its props (did you mean unauthorizedThreshold?); got 5',
    );
  });
});

describe('every documented prop is still taken', () => {
  const documented = documentedProps();

  it('reads the props table of docs/configuration.md', () => {
    expect(documented).toContain('tenantId');
    expect(documented).toContain('routePermissions');
    expect(documented).toContain('unlistedMethods');
    expect(documented.length).toBeGreaterThanOrEqual(20);
  });

  // Each key present (undefined is its default): a key the construct did not know would be refused.
  it.each(Object.keys(CONSTRUCTS))('%s', (name) => {
    // docs/api-kinds.md: a WebSocket authorizer takes no route table, and adds tokenSource.
    const props =
      name === 'EntraWebSocketAuthorizer'
        ? [...documented.filter((p) => p !== 'routePermissions'), 'tokenSource']
        : documented;
    const keep = new Set(['tenantId', 'clientId']);
    const all = Object.fromEntries(props.filter((p) => !keep.has(p)).map((p) => [p, undefined]));
    expect(errorOf(make(name, all))).toBeUndefined();
  });

  it('EntraWebSocketAuthorizer lets a shared props object carry resultsCacheTtl, and refuses routePermissions', () => {
    expect(errorOf(make('EntraWebSocketAuthorizer', { resultsCacheTtl: undefined }))).toBeUndefined();
    expect(errorOf(make('EntraWebSocketAuthorizer', { routePermissions: {} }))?.message).toMatch(
      /^EntraWebSocketAuthorizer: routePermissions must be absent: a WebSocket API authorizes \$connect only/,
    );
  });
});
