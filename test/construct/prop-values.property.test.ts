import { Duration, Fn, Lazy, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, WebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration, WebSocketMockIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntraHttpAuthorizer } from '../../infra/construct/entra-http-authorizer.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { EntraWebSocketAuthorizer } from '../../infra/construct/entra-websocket-authorizer.js';
import { testApp } from '../helpers/cdk.js';

/*
 * The library user's app is JavaScript as often as TypeScript: its props can hold anything at run time.
 * Each property feeds the constructs values a JavaScript app could plausibly pass and holds the outcome to
 * docs/configuration.md: the synth succeeds with the Lambda variables the docs give that value, or fails with
 * an Error whose message names the prop (as the docs name it) on one line; never a TypeError from inside,
 * never a prop silently dropped, never a message naming a variable (AZURE_...) instead of the prop.
 */

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const CONSTRUCTS = ['EntraTokenAuthorizer', 'EntraHttpAuthorizer', 'EntraWebSocketAuthorizer'] as const;
type ConstructName = (typeof CONSTRUCTS)[number];

/** What docs/configuration.md (its props table and the text around it) says each prop holds. */
type Documented =
  | 'string'
  | 'list'
  | 'tenants'
  | 'Duration'
  | 'number'
  | 'RetentionDays'
  | 'RemovalPolicy'
  | 'table';
const SHARED: Readonly<Record<string, Documented>> = {
  tenantId: 'string',
  allowedTenants: 'tenants',
  tenantsRefresh: 'Duration',
  clientId: 'string',
  audiences: 'list',
  requiredScopes: 'list',
  requiredRoles: 'list',
  requiredGroups: 'list',
  guestUsers: 'string',
  allowedClientApps: 'list',
  jwksUri: 'string',
  authorityHost: 'string',
  v1IssuerHost: 'string',
  clockSkew: 'Duration',
  logRetention: 'RetentionDays',
  logLevel: 'string',
  memorySize: 'number',
  timeout: 'Duration',
  serviceName: 'string',
  metricsNamespace: 'string',
  logRemovalPolicy: 'RemovalPolicy',
};
/**
 * The props of each construct (docs/api-kinds.md: a WebSocket API has no route table, so no unlisted
 * methods, and no cache TTL).
 */
const DOCUMENTED: Readonly<Record<ConstructName, Readonly<Record<string, Documented>>>> = {
  EntraTokenAuthorizer: {
    ...SHARED,
    routePermissions: 'table',
    resultsCacheTtl: 'Duration',
    unlistedMethods: 'string',
  },
  EntraHttpAuthorizer: {
    ...SHARED,
    routePermissions: 'table',
    resultsCacheTtl: 'Duration',
    unlistedMethods: 'string',
  },
  EntraWebSocketAuthorizer: { ...SHARED, tokenSource: 'string' },
};

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`). */
const CLOUDWATCH_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** aws-cdk-lib's RemovalPolicy values and RetentionDays.INFINITE (no retention), as its API reference lists them. */
const REMOVAL_POLICIES = ['destroy', 'retain', 'snapshot', 'retain-on-update-or-delete'];
const RETAIN_FOREVER = 9999;

const isToken = (value: unknown): boolean =>
  Token.isUnresolved(value) || (Array.isArray(value) && value.some(isToken));
const isList = (value: unknown): boolean =>
  Array.isArray(value) && !isToken(value) && value.every((item) => typeof item === 'string');
const isDuration = (value: unknown): value is Duration =>
  value instanceof Duration && !value.isUnresolved() && Number.isFinite(value.toSeconds({ integral: false }));

/** Whether `value` is what the docs say the prop holds (its kind; whether its value is right is another matter). */
function fits(documented: Documented, value: unknown): boolean {
  switch (documented) {
    case 'string':
      return typeof value === 'string' && value.trim() !== '' && !Token.isUnresolved(value);
    case 'list':
      return isList(value);
    case 'tenants':
      return (typeof value === 'string' && !Token.isUnresolved(value)) || isList(value);
    case 'Duration':
      return isDuration(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && !Token.isUnresolved(value);
    case 'RetentionDays':
      return CLOUDWATCH_RETENTION_DAYS.includes(value as number) || value === RETAIN_FOREVER;
    case 'RemovalPolicy':
      return REMOVAL_POLICIES.includes(value as string);
    case 'table':
      return (
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        !Token.isUnresolved(JSON.stringify(value))
      );
  }
}

/** Values a JavaScript app could pass for any prop: wrong kinds, blanks, null, NaN, Durations, CDK Tokens. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -5, max: 5000 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0.5),
  fc.boolean(),
  fc.constantFrom(null, '', ' ', '\t'),
  fc.string({ maxLength: 12 }),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), {
    maxKeys: 2,
  }),
  fc
    .oneof(fc.nat(4000), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY))
    .map((n) => Duration.seconds(n)),
  fc
    .constantFrom(
      () => Lazy.string({ produce: () => 'Items.Read' }),
      () => Fn.ref('Param'),
      () => Token.asNumber(Fn.ref('Param')),
      () => Token.asList(Fn.split(',', Fn.ref('Param'))),
      () => [Lazy.string({ produce: () => 'Items.Read' })],
      () => Duration.seconds(Token.asNumber(Fn.ref('Param'))),
      () => Duration.minutes(Token.asNumber(Fn.ref('Param'))),
      () => ({ 'GET /items': { scopes: [Fn.ref('Param')] } }),
      () => ({ parameterName: '/saas/tenants' }),
    )
    .map((make) => make()),
);

/** Synthesizes an app whose API the construct guards (one App per case): the error, or the template. */
function synth(
  construct: ConstructName,
  props: Record<string, unknown>,
): { error?: Error; template?: Template } {
  try {
    const stack = new Stack(testApp(), 'S');
    const all = { tenantId: TENANT, clientId: CLIENT, ...props } as never;
    if (construct === 'EntraTokenAuthorizer') {
      const entra = new EntraTokenAuthorizer(stack, 'Entra', all);
      const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
      api.root.addResource('items').addMethod('GET', new MockIntegration());
      entra.addGatewayResponses(api);
    } else if (construct === 'EntraHttpAuthorizer') {
      const entra = new EntraHttpAuthorizer(stack, 'Entra', all);
      new HttpApi(stack, 'Api').addRoutes({
        path: '/items',
        methods: [HttpMethod.GET],
        integration: new HttpUrlIntegration('Items', 'https://items.example.com'),
        authorizer: entra,
      });
    } else {
      const entra = new EntraWebSocketAuthorizer(stack, 'Entra', all);
      new WebSocketApi(stack, 'Api', {
        connectRouteOptions: { integration: new WebSocketMockIntegration('Connect'), authorizer: entra },
      });
    }
    return { template: Template.fromStack(stack) };
  } catch (err) {
    return { error: err as Error };
  }
}

/** The authorizer Lambda's resource properties. */
function lambdaOf(template: Template): Record<string, unknown> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  return (fn as { Properties: Record<string, unknown> }).Properties;
}

function variablesOf(template: Template): Record<string, string> {
  return (lambdaOf(template).Environment as { Variables: Record<string, string> }).Variables;
}

/**
 * The documented failure: an Error (not one of JavaScript's own, thrown by a bug), with a line of its message
 * (CDK lists the problems found at synth one a line) that is `<construct>: <prop>...`, and no variable named.
 */
function expectNamedFailure(error: Error | undefined, construct: ConstructName, prop: string): void {
  expect(error, `${construct} ${prop}: the synth succeeded`).toBeInstanceOf(Error);
  const { name, message } = error as Error;
  expect(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError']).not.toContain(name);
  const escaped = prop.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^(\\s*\\[[^\\]]*\\] )?${construct}: ${escaped}([ .\\[:]|$)`, 'm');
  expect(message).toMatch(line);
  expect(message).not.toMatch(/\b(AZURE|POWERTOOLS)_[A-Z_]+/);
  // Thrown by the construct itself (not listed by CDK's synth-time validation): the message is its one line.
  if (!message.startsWith('Validation failed')) expect(message).not.toContain('\n');
}

describe('a prop given a value of another kind than the docs give it', () => {
  it('fails the synth, naming the prop on one line, for every construct and prop', () => {
    const arbitrary = fc
      .constantFrom(...CONSTRUCTS)
      .chain((construct) =>
        fc.tuple(fc.constant(construct), fc.constantFrom(...Object.keys(DOCUMENTED[construct])), anyValue),
      )
      .filter(([construct, prop, value]) => !fits(DOCUMENTED[construct][prop] as Documented, value));
    // Oracle: docs/configuration.md ("Bad props fail the synth with a message that names the prop") and the
    // kind the props table and docs/api-kinds.md give each prop, restated above independently of the construct
    fc.assert(
      fc.property(arbitrary, ([construct, prop, value]) => {
        expectNamedFailure(synth(construct, { [prop]: value }).error, construct, prop);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a prop given a value of its kind', () => {
  const NAMES = [
    'Items.Read',
    'Orders.Write',
    'user_impersonation',
    'a b',
    '',
    'x,y',
    '.hidden',
    'Bestellung.Ü',
    'q"',
  ];
  /** An Entra scope or role name as docs/configuration.md gives them; a comma would split the list variable. */
  const isEntraName = (name: string) =>
    /^[!-~]{1,120}$/.test(name) && !name.startsWith('.') && !/["\\,]/.test(name);

  it('is written to the Lambda as the docs say, or fails naming the prop', () => {
    const cases = fc.oneof(
      fc.tuple(fc.constant('requiredScopes'), fc.array(fc.constantFrom(...NAMES), { maxLength: 3 })),
      fc.tuple(fc.constant('requiredRoles'), fc.array(fc.constantFrom(...NAMES), { maxLength: 3 })),
      fc.tuple(
        fc.constant('clockSkew'),
        fc.oneof(
          fc.nat(900).map((s) => Duration.seconds(s)),
          fc.nat(900_000).map((ms) => Duration.millis(ms)),
        ),
      ),
      fc.tuple(
        fc.constant('timeout'),
        fc.nat(20).map((s) => Duration.seconds(s)),
      ),
      fc.tuple(
        fc.constant('memorySize'),
        fc.oneof(fc.integer({ min: 0, max: 12_000 }), fc.double({ noNaN: true })),
      ),
      fc.tuple(
        fc.constant('logRetention'),
        fc.oneof(
          fc.constantFrom(...CLOUDWATCH_RETENTION_DAYS, RETAIN_FOREVER),
          fc.integer({ min: 0, max: 4000 }),
        ),
      ),
      fc.tuple(fc.constant('serviceName'), fc.string({ maxLength: 20 })),
      fc.tuple(fc.constant('metricsNamespace'), fc.string({ maxLength: 20 })),
    );
    // Oracle: docs/configuration.md's table (requiredScopes/Roles -> comma-separated AZURE_REQUIRED_*, names of
    // 1 to 120 printable ASCII but " and \, not starting with "."; clockSkew -> AZURE_CLOCK_SKEW_SECONDS, 0 to
    // 600; memorySize and timeout of at most 10 s -> the function's; serviceName, metricsNamespace ->
    // POWERTOOLS_*) and CloudWatch Logs' documented retention periods
    fc.assert(
      fc.property(fc.constantFrom(...CONSTRUCTS), cases, (construct, [prop, value]) => {
        const { error, template } = synth(construct, { [prop]: value });
        if (error !== undefined) return expectNamedFailure(error, construct, prop);
        const variables = variablesOf(template as Template);
        const fn = lambdaOf(template as Template);
        if (prop === 'requiredScopes' || prop === 'requiredRoles') {
          const list = value as string[];
          expect(list.length > 0 && list.every(isEntraName)).toBe(true);
          const variable = prop === 'requiredScopes' ? 'AZURE_REQUIRED_SCOPES' : 'AZURE_REQUIRED_ROLES';
          expect(new Set(variables[variable]?.split(','))).toEqual(new Set(list));
        } else if (prop === 'clockSkew') {
          const seconds = (value as Duration).toSeconds({ integral: false });
          expect(Number.isInteger(seconds) && seconds <= 600).toBe(true);
          expect(variables.AZURE_CLOCK_SKEW_SECONDS).toBe(String(seconds));
        } else if (prop === 'timeout') {
          expect(fn.Timeout).toBe((value as Duration).toSeconds());
          expect(fn.Timeout).toBeLessThanOrEqual(10);
        } else if (prop === 'memorySize') {
          expect(Number.isInteger(value) && (value as number) >= 128 && (value as number) <= 10_240).toBe(
            true,
          );
          expect(fn.MemorySize).toBe(value);
        } else if (prop === 'logRetention') {
          const [group] = Object.values(template?.findResources('AWS::Logs::LogGroup') ?? {});
          const days = (group as { Properties?: { RetentionInDays?: number } }).Properties?.RetentionInDays;
          expect(days).toBe(value === RETAIN_FOREVER ? undefined : value);
        } else {
          const variable =
            prop === 'serviceName' ? 'POWERTOOLS_SERVICE_NAME' : 'POWERTOOLS_METRICS_NAMESPACE';
          expect((value as string).trim()).not.toBe('');
          expect(variables[variable]).toBe(value);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('of a list too long for the Lambda environment fails naming that list', () => {
    const lists = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('requiredScopes', 'requiredRoles', 'audiences'),
          fc.integer({ min: 200, max: 400 }),
        )
        .map(
          ([prop, n]) => [prop, Array.from({ length: n }, (_, i) => `Orders.Scope.${i}.abcdefgh`)] as const,
        ),
      fc
        .tuple(fc.constantFrom('allowedClientApps', 'requiredGroups'), fc.integer({ min: 120, max: 300 }))
        .map(
          ([prop, n]) =>
            [
              prop,
              Array.from(
                { length: n },
                (_, i) => `${String(i).padStart(8, '0')}-1111-4222-8333-444444444444`,
              ),
            ] as const,
        ),
    );
    // Oracle: docs/configuration.md: Lambda takes at most 4096 bytes of variables, and a prop that passes it
    // fails the synth naming the prop (the docs name routePermissions; a list is a prop as much as a table)
    fc.assert(
      fc.property(fc.constantFrom(...CONSTRUCTS), lists, (construct, [prop, list]) => {
        const { error } = synth(construct, { [prop]: list });
        expectNamedFailure(error, construct, prop);
        expect(error?.message).toContain('4096 bytes');
      }),
      { numRuns: 10 },
    );
  });
});

describe('a route table of the wrong shape inside', () => {
  it('fails the synth naming routePermissions (and the route) for the REST and HTTP authorizers', () => {
    const wrongList = anyValue.filter((value) => !isList(value) || (value as unknown[]).length === 0);
    const rule = fc.oneof(
      anyValue.filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)),
      fc
        .tuple(fc.constantFrom('scopes', 'roles', 'clientApps', 'groups'), wrongList)
        .map(([field, list]) => ({
          [field]: list,
        })),
      fc.constantFrom({ scope: ['Items.Read'] }, { roles: ['Admin'], clientApp: [CLIENT] }),
    );
    // Oracle: docs/configuration.md's AZURE_ROUTE_PERMISSIONS row (a rule holds "scopes", "roles",
    // "clientApps", "groups", each a non-empty list; an empty list is refused) and its Props text (a mistake
    // names the part of the route table)
    fc.assert(
      fc.property(
        fc.constantFrom('EntraTokenAuthorizer', 'EntraHttpAuthorizer' as const),
        rule,
        (construct, r) => {
          const { error } = synth(construct, { routePermissions: { 'GET /items': r } });
          expectNamedFailure(error, construct, 'routePermissions');
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('a misspelled prop', () => {
  it('fails the synth naming the key as written and the prop it likely meant', () => {
    const typo = fc
      .constantFrom(...CONSTRUCTS)
      .chain((construct) =>
        fc.tuple(fc.constant(construct), fc.constantFrom(...Object.keys(DOCUMENTED[construct]))),
      )
      .chain(([construct, prop]) =>
        fc.tuple(
          fc.constant(construct),
          fc.constant(prop),
          fc.oneof(
            // tenantID, clientID: one letter's case flipped; or the last letter left off.
            fc.nat(prop.length - 1).map((i) => {
              const ch = prop.charAt(i);
              const flipped = ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
              return prop.slice(0, i) + flipped + prop.slice(i + 1);
            }),
            fc.constant(prop.slice(0, -1)),
          ),
        ),
      )
      .filter(([, prop, key]) => key !== prop);
    // Oracle: docs/configuration.md: "A prop the construct does not have fails the synth too, naming the
    // nearest one": `routePermission must be one of its props (did you mean routePermissions?)`
    fc.assert(
      fc.property(typo, fc.constantFrom<unknown>(['Items.Read'], 'x', 1), ([construct, prop, key], value) => {
        const { error } = synth(construct, { [key]: value });
        expectNamedFailure(error, construct, key);
        expect(error?.message).toContain(`must be one of its props (did you mean ${prop}?)`);
      }),
      { numRuns: 40 },
    );
  });
});
