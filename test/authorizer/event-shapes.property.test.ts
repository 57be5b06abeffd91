import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_ENV } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { coldStartHandler } from '../helpers/cold-start.js';
import { KeyServer } from '../helpers/key-server.js';
import { APP_ID_URI, CLIENT_ID, publishedKeySet, TENANT, testKeys, token } from '../helpers/setup.js';

/**
 * The HTTP API and WebSocket kinds read events that API Gateway (or an emulator) builds: any shape of
 * those events ends in the status docs/api-kinds.md gives it, with exactly one decision line in the real
 * handler module's output and no token in it. REST's TOKEN event has its own (bad-input.property.test.ts).
 */

const server = KeyServer.forSuite(publishedKeySet);
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const granted = token({ scopes: ['Items.Read'] });
const other = token({ scopes: ['Other.Scope'] });
const forged = token({ scopes: ['Items.Read'] }, testKeys().attacker);
const TOKENS = { granted, other, forged } as const;
type Held = keyof typeof TOKENS | 'junk';
const CONNECT_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/$connect';

/** A token, or something else where one belongs; `held` says which. */
const credential = fc.oneof(
  fc.constantFrom('granted', 'other', 'forged').map((held) => ({ held, value: TOKENS[held] as unknown })),
  fc.constantFrom('', 'a.b', `${granted}.x`, `${granted} `, 42, null, [granted]).map((value) => ({
    held: 'junk' as Held,
    value,
  })),
) as fc.Arbitrary<{ held: Held; value: unknown }>;

/** Any case of a header name: HTTP header names are case-insensitive (RFC 9110 5.1). */
const anyCase = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

/** The status API Gateway gives the handler's answer: Allow 200, Deny 403, `Unauthorized` 401, else 500. */
async function statusOf(answer: Promise<unknown>): Promise<number> {
  try {
    const result = (await answer) as {
      isAuthorized?: boolean;
      policyDocument?: { Statement: { Effect: string }[] };
    };
    if (result.isAuthorized !== undefined) return result.isAuthorized ? 200 : 403;
    return result.policyDocument?.Statement[0]?.Effect === 'Allow' ? 200 : 403;
  } catch (err) {
    return (err as Error).message === UNAUTHORIZED ? 401 : 500;
  }
}

/**
 * Runs the events of `facts` through a cold-started handler of `env`, checking each status and its one
 * decision line.
 */
async function decideAll<F>(
  env: Record<string, string>,
  facts: fc.Arbitrary<F>,
  eventOf: (facts: F) => unknown,
  expected: (facts: F) => number,
): Promise<void> {
  const { handler, lines, restore } = await coldStartHandler({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: `${CLIENT_ID},${APP_ID_URI}`,
    [ENV_NAMES.jwksUri]: server.url,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    ...env,
  });
  try {
    // Oracle: `expected`, each caller's reading of docs/api-kinds.md and AWS's event formats (below)
    await fc.assert(
      fc.asyncProperty(facts, async (f) => {
        const before = lines.length;
        expect(await statusOf(handler(eventOf(f) as never))).toBe(expected(f));
        const written = lines.slice(before).join('');
        expect(written.match(/"message":"authorizer decision"/g)).toHaveLength(1);
        for (const t of Object.values(TOKENS))
          for (const part of t.split('.').slice(1)) expect(written).not.toContain(part);
      }),
      { numRuns: 250 },
    );
  } finally {
    restore();
  }
}

const HTTP_TABLE = {
  'GET /items/{id}': { scopes: ['Items.Read'] },
  'DELETE /items/{id}': { roles: ['Items.Admin'] },
  $default: {},
};

describe('an HTTP API authorizer, whatever the event', () => {
  it('answers as docs/api-kinds.md says: 500 for another event, 401 for a bad token, else the route key decides', async () => {
    const facts: fc.Arbitrary<HttpEventFacts> = fc.record({
      version: fc.constantFrom('2.0', '2.0', '2.0', '1.0', undefined, 2),
      type: fc.constantFrom('REQUEST', 'REQUEST', 'TOKEN', undefined),
      routeKey: fc.constantFrom(
        'GET /items/{id}',
        'DELETE /items/{id}',
        '$default',
        'GET /items',
        '__proto__',
        'constructor',
        42,
        undefined,
      ),
      header: fc.option(
        fc.record({
          name: anyCase('authorization'),
          scheme: fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', '', 'Basic '),
          credential,
        }),
        { nil: undefined },
      ),
      headersShape: fc.constantFrom('object', 'null', 'absent'),
      rawPath: fc.constantFrom('/items/1', '', undefined, 7, '/a'.repeat(5000)),
      requestContext: fc.constantFrom(undefined, null, {}, { http: { method: 'GET' } }, { http: 'x' }),
    });
    // Oracle: docs/api-kinds.md (the Lambda answers only events of its kind, else 500; the HTTP API's 401 and
    // 403), AWS's payload format 2.0 (version "2.0", type REQUEST, routeKey), RFC 6750's "Bearer" credentials
    // (scheme case-insensitive, RFC 9110 11.1) and the table's rules in docs/permissions-and-caching.md
    await decideAll(
      {
        [API_ENV.kind]: 'http',
        [ENV_NAMES.routePermissions]: JSON.stringify(HTTP_TABLE),
      },
      facts,
      httpEvent,
      httpStatus,
    );
  });
});

interface HttpEventFacts {
  readonly version: unknown;
  readonly type: unknown;
  readonly routeKey: unknown;
  readonly header: { name: string; scheme: string; credential: { held: Held; value: unknown } } | undefined;
  readonly headersShape: string;
  readonly rawPath: unknown;
  readonly requestContext: unknown;
}

/** The event API Gateway would send, from its facts. */
function httpEvent(facts: HttpEventFacts) {
  const { header, headersShape, ...rest } = facts;
  const value =
    header === undefined
      ? undefined
      : typeof header.credential.value === 'string'
        ? `${header.scheme}${header.credential.value}`
        : header.credential.value;
  const headers = headersShape === 'null' ? null : header === undefined ? {} : { [header.name]: value };
  return { ...rest, ...(headersShape === 'absent' ? {} : { headers }) };
}

function httpStatus(facts: HttpEventFacts): number {
  if (facts.version !== '2.0' || facts.type !== 'REQUEST' || typeof facts.routeKey !== 'string') return 500;
  const { header } = facts;
  if (header === undefined || facts.headersShape !== 'object') return 401;
  const { held } = header.credential;
  if (header.scheme.toLowerCase() !== 'bearer ' || held === 'junk' || held === 'forged') return 401;
  const rule = Object.hasOwn(HTTP_TABLE, facts.routeKey)
    ? HTTP_TABLE[facts.routeKey as keyof typeof HTTP_TABLE]
    : undefined;
  if (rule === undefined || 'roles' in rule) return 403;
  if ('scopes' in rule) return held === 'granted' ? 200 : 403;
  return 200;
}

interface WebSocketEventFacts {
  readonly type: unknown;
  readonly methodArn: unknown;
  /** The access_token query parameters, in order (API Gateway: the last in queryStringParameters). */
  readonly query: readonly { held: Held; value: unknown }[] | null;
  /** The Sec-WebSocket-Protocol header: its name's case and the list it carries around the token. */
  readonly protocol:
    | { name: string; before: string; after: string; credential: { held: Held; value: unknown } }
    | undefined;
}

const webSocketFacts: fc.Arbitrary<WebSocketEventFacts> = fc.record({
  type: fc.constantFrom('REQUEST', 'REQUEST', 'TOKEN', undefined),
  methodArn: fc.constantFrom(
    CONNECT_ARN,
    CONNECT_ARN,
    CONNECT_ARN.replace('$connect', '$default'),
    CONNECT_ARN.replace('/prod/', '/*/'),
    undefined,
  ),
  query: fc.option(fc.array(credential, { maxLength: 2 }), { nil: null }),
  protocol: fc.option(
    fc.record({
      name: anyCase('sec-websocket-protocol'),
      before: fc.constantFrom(
        'access_token, ',
        'chat, access_token, ',
        'access_token,',
        '',
        'access_token, x, access_token, ',
      ),
      after: fc.constantFrom('', ', chat', ', access_token'),
      credential,
    }),
    { nil: undefined },
  ),
});

function webSocketEvent(facts: WebSocketEventFacts) {
  const values = facts.query?.map((c) => c.value);
  const { protocol } = facts;
  return {
    type: facts.type,
    methodArn: facts.methodArn,
    headers:
      protocol === undefined
        ? {}
        : { [protocol.name]: `${protocol.before}${String(protocol.credential.value)}${protocol.after}` },
    queryStringParameters:
      values === undefined ? null : values.length === 0 ? {} : { access_token: values.at(-1) },
    multiValueQueryStringParameters:
      values === undefined ? null : values.length === 0 ? {} : { access_token: values },
  };
}

/** The status of a verified token under the required scope Items.Read; a bad one is 401. */
const scopedStatus = (held: Held) => (held === 'granted' ? 200 : held === 'other' ? 403 : 401);

function queryStatus(facts: WebSocketEventFacts): number {
  if (facts.type !== 'REQUEST' || facts.methodArn !== CONNECT_ARN) return 500;
  const query = facts.query ?? [];
  if (query.length !== 1) return 401;
  return scopedStatus((query[0] as { held: Held }).held);
}

function protocolStatus(facts: WebSocketEventFacts): number {
  if (facts.type !== 'REQUEST' || facts.methodArn !== CONNECT_ARN) return 500;
  const { protocol } = facts;
  // "access_token" exactly once in the list, the token the element right after it (docs/api-kinds.md,
  // WebSocket); a list element is the text between commas, white space around it dropped (RFC 9110 5.6.1).
  const elements = (text: string) =>
    text
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
  const before = elements(protocol?.before ?? '');
  const named = [...before, ...elements(protocol?.after ?? '')].filter((e) => e === 'access_token');
  if (protocol === undefined || before.at(-1) !== 'access_token' || named.length !== 1) return 401;
  const element = String(protocol.credential.value).trim();
  return element === granted ? 200 : element === other ? 403 : 401;
}

describe('a WebSocket $connect authorizer, whatever the event', () => {
  it('answers as docs/api-kinds.md says, the token in the query string', async () => {
    // Oracle: docs/api-kinds.md (a $connect REQUEST event with its route's method ARN, else 500; the token
    // in ?access_token= exactly once, else 401) and the required scope's 403 (docs/permissions-and-caching.md)
    await decideAll(
      { [API_ENV.kind]: 'websocket', [ENV_NAMES.requiredScopes]: 'Items.Read' },
      webSocketFacts,
      webSocketEvent,
      queryStatus,
    );
  });

  it('answers as docs/api-kinds.md says, the token in Sec-WebSocket-Protocol', async () => {
    // Oracle: docs/api-kinds.md (the token after "access_token" in the subprotocol list, which names it once;
    // header names case-insensitive, RFC 9110 5.1) and the required scope's 403
    await decideAll(
      {
        [API_ENV.kind]: 'websocket',
        [API_ENV.webSocketTokenSource]: 'protocol',
        [ENV_NAMES.requiredScopes]: 'Items.Read',
      },
      webSocketFacts,
      webSocketEvent,
      protocolStatus,
    );
  });
});
