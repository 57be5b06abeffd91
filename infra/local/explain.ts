import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import {
  type ApiConfig,
  WEBSOCKET_TOKEN_NAME,
  type WebSocketTokenSource,
} from '../../lambda/authorizer/api-kind.js';
import { decide, decideWith } from '../../lambda/authorizer/authorizer.js';
import { type AuthorizerConfig, ENV_NAMES } from '../../lambda/authorizer/config.js';
import { reportEntraRules } from '../../lambda/authorizer/entra.js';
import { KeysUnavailableError } from '../../lambda/authorizer/errors.js';
import { createHinter, relativeTime } from '../../lambda/authorizer/hints.js';
import { httpApiEventKind } from '../../lambda/authorizer/http-api.js';
import { decodeJwt, headerKeyId } from '../../lambda/authorizer/jwt.js';
import type { DecodedJwt } from '../../lambda/authorizer/jwt-model.js';
import type { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import type { SigningJwk } from '../../lambda/authorizer/keys/key-set.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { type Outcome, REASONS, type Reason } from '../../lambda/authorizer/reasons.js';
import { createRouteKeyAuthorizer } from '../../lambda/authorizer/route-keys.js';
import { boundedJson, isoTime, printable, redactUrl } from '../../lambda/authorizer/safe-text.js';
import { type TenantList, withTenantList } from '../../lambda/authorizer/tenant-list.js';
import {
  createKeyLookup,
  createTokenVerifier,
  keyServesIssuer,
  verifiesRs256,
} from '../../lambda/authorizer/verifier.js';
import { webSocketEventKind } from '../../lambda/authorizer/websocket.js';

interface ExplainCheck {
  readonly check: string;
  readonly outcome: 'pass' | 'fail' | 'skipped';
  readonly detail?: string;
}

export interface ExplainReport {
  readonly header?: Readonly<Record<string, unknown>>;
  readonly payload?: Readonly<Record<string, unknown>>;
  /** exp, nbf, iat in human form and relative to the evaluation time. */
  readonly times: readonly {
    readonly claim: string;
    readonly epoch: number;
    readonly iso: string;
    readonly relative: string;
  }[];
  readonly checks: readonly ExplainCheck[];
  readonly signature: { readonly status: 'verified' | 'invalid' | 'not_checked'; readonly detail: string };
  readonly decision: {
    readonly status: 200 | 401 | 403 | 500;
    readonly outcome: Outcome;
    readonly reason: Reason;
    readonly detail: string;
  };
  readonly hint: string;
  /** Which allowed tenant list judged a multi-tenant token: `fixed`, or the parameter and its version. */
  readonly tenantList?: string;
}

interface ExplainOptions {
  /** With `api.kind` http (loadApiConfig), the route is judged as an HTTP API's route key. */
  readonly config: AuthorizerConfig | ApiConfig;
  readonly keys: EntraJwksCache;
  /** A multi-tenant API's per-tenant key sets (createTenantKeyCache); without it only the key URL is read. */
  readonly tenantKeys?: EntraJwksCache;
  /** The route to judge, as in route permissions. @default GET / */
  readonly route?: { readonly method: string; readonly path: string };
  /** For an HTTP API: the route key to judge (`GET /items/{id}`, `$default`). @default `<method> <path>` of route */
  readonly routeKey?: string;
  /** Seconds since the epoch. @default Date.now()/1000 */
  readonly now?: () => number;
  /** The list a multi-tenant configuration decides with (a parameter's, as read). @default its fixed list */
  readonly tenantList?: TenantList;
}

/** The report on something that is not a compact JWT: refused (401, malformed) whatever the configuration. */
export function notAJwtReport(detail: string, hint: string = REASONS.malformed.hint): ExplainReport {
  return {
    times: [],
    checks: [
      { check: 'a compact JWT (header.payload.signature, canonical base64url)', outcome: 'fail', detail },
    ],
    signature: { status: 'not_checked', detail: 'the token could not be decoded' },
    decision: { status: 401, outcome: 'unauthorized', reason: 'malformed', detail },
    hint,
  };
}

const STATUS = { allow: 200, deny: 403, unauthorized: 401, error: 500 } as const;

/**
 * Everything the authorizer would conclude about a token, check by check, for a person: the decoded token,
 * each rule with pass or fail, the signature, the decision and the hint. The decision comes from the
 * authorizer itself, so it cannot disagree with the Lambda.
 */
export async function explainToken(input: string, options: ExplainOptions): Promise<ExplainReport> {
  const { keys, tenantKeys, tenantList } = options;
  const config: AuthorizerConfig | ApiConfig =
    tenantList === undefined
      ? options.config
      : { ...options.config, tenant: withTenantList(options.config.tenant, tenantList) };
  const listed = config.tenant.mode === 'multi' ? { tenantList: tenantList?.origin ?? 'fixed' } : {};
  const now = options.now ?? (() => Date.now() / 1000);
  const route = options.route ?? { method: 'GET', path: '/' };
  const header = /^bearer /i.test(input.trim()) ? input.trim() : `Bearer ${input.trim()}`;
  const hint = createHinter(config, now);
  // One fetch up front, so the signature part can say why the keys were unreachable.
  const keysError = await keys.getJwks(config.jwksUri).then(
    () => undefined,
    (err: Error) => err.message,
  );
  const verifier = createTokenVerifier({ config, keys, tenantKeys, now });
  const api = 'api' in options.config ? options.config.api : undefined;
  const routeKey = options.routeKey ?? `${route.method} ${route.path}`;
  const record = await decideOnRoute(config, header, route, routeKey, { verifier, hint });
  const { decision } = record;
  const decisionPart = {
    status: STATUS[decision.outcome],
    outcome: decision.outcome,
    reason: decision.reason,
    detail: decision.detail,
  };
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(header.slice(7));
  } catch (err) {
    return { ...notAJwtReport((err as Error).message, record.hint), decision: decisionPart, ...listed };
  }
  const nowSeconds = now();
  const checks = ruleChecks(jwt, config, nowSeconds);
  const lookUp = createKeyLookup({ config, keys, tenantKeys });
  const signature = await checkSignature(jwt, config, lookUp, keysError);
  checks.push(...signature.checks);
  const routeName =
    api?.kind === 'http'
      ? routeKey
      : api?.kind === 'websocket'
        ? webSocketRouteName(api.tokenSource)
        : `${route.method} ${route.path}`;
  checks.push(...permissionChecks(decision, routeName, config.guestUsers));
  return {
    // Cut off deep down, so that printing the report (JSON.stringify recurses) cannot overflow the stack.
    header: boundedJson(jwt.header) as ExplainReport['header'],
    payload: boundedJson(jwt.payload) as ExplainReport['payload'],
    times: tokenTimes(jwt, nowSeconds),
    checks,
    signature: signature.result,
    decision: decisionPart,
    hint:
      decision.outcome === 'allow'
        ? api?.kind === 'websocket'
          ? `the token is valid and may call ${routeName}; API Gateway caches no WebSocket authorizer answer, so every connection is judged afresh`
          : allowHint(decision.result, routeName)
        : (record.hint ??
          hint(decision.reason, {
            header: jwt.header,
            payload: jwt.payload,
            detail: decision.detail,
            denial: 'denial' in decision ? decision.denial : undefined,
          })),
    ...listed,
  };
}

/**
 * What an Allow lets the token call: the judged route, and every route the policy allows (API Gateway
 * caches that policy for the token, so these are the routes it may call); an HTTP API's simple answer has
 * no policy, only the route.
 */
function allowHint(result: unknown, routeName: string): string {
  const statements = (result as Partial<APIGatewayAuthorizerResult> | undefined)?.policyDocument?.Statement;
  const allowed = (statements ?? [])
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => [(s as { Resource?: unknown }).Resource ?? []].flat())
    .filter((r): r is string => typeof r === 'string')
    // arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>
    .map((r) => r.split('/').slice(2).join('/'))
    .map((r) => (r === '*' ? 'every route' : r.replace('/', ' /')));
  // The judged route alone adds nothing to the sentence; the list says more only when the policy grants more.
  const others = allowed.filter((r) => r !== routeName);
  const grants = others.length === 0 ? '' : `; the cached policy also admits ${others.join(', ')}`;
  return `the token is valid and may call ${routeName}${grants}`;
}

/** A WebSocket API's one guarded route, and where its authorizer reads the token (`AZURE_WEBSOCKET_TOKEN_SOURCE`). */
function webSocketRouteName(source: WebSocketTokenSource): string {
  const where =
    source === 'query'
      ? `the ${WEBSOCKET_TOKEN_NAME} query parameter`
      : `Sec-WebSocket-Protocol, after "${WEBSOCKET_TOKEN_NAME}"`;
  return `$connect (token in ${where})`;
}

/** The `$connect` REQUEST event of a WebSocket API, the token where its authorizer reads it. */
function webSocketConnectEvent(
  header: string,
  source: WebSocketTokenSource,
): APIGatewayRequestAuthorizerEvent {
  const token = header.replace(/^bearer\s+/i, '');
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:local-1:000000000000:explain/explain/$connect',
    ...(source === 'query'
      ? {
          queryStringParameters: { [WEBSOCKET_TOKEN_NAME]: token },
          multiValueQueryStringParameters: { [WEBSOCKET_TOKEN_NAME]: [token] },
        }
      : { headers: { 'Sec-WebSocket-Protocol': `${WEBSOCKET_TOKEN_NAME}, ${token}` } }),
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/**
 * The authorizer's own decision on the token for the route: an HTTP API's REQUEST event for the route key
 * (with `api.kind` http), a WebSocket API's `$connect` REQUEST event (with `api.kind` websocket), else a
 * REST TOKEN event for the method ARN of the method and path.
 */
function decideOnRoute(
  config: AuthorizerConfig | ApiConfig,
  header: string,
  route: { readonly method: string; readonly path: string },
  routeKey: string,
  deps: Parameters<typeof decideWith>[2],
) {
  const api = 'api' in config ? config.api : undefined;
  if (api?.kind === 'http') {
    return decideWith(
      httpApiEventKind(
        createRouteKeyAuthorizer({
          required: config.required,
          routeKeys: api.routeKeys,
          guestUsers: config.guestUsers,
        }),
      ),
      {
        version: '2.0',
        type: 'REQUEST',
        routeKey,
        rawPath: route.path,
        headers: { authorization: header },
        requestContext: { http: { method: route.method } },
      } as unknown as APIGatewayRequestAuthorizerEventV2,
      deps,
    );
  }
  if (api?.kind === 'websocket') {
    return decideWith(
      webSocketEventKind(createRouteAuthorizer(config), api.tokenSource),
      webSocketConnectEvent(header, api.tokenSource),
      deps,
    );
  }
  return decide(
    {
      type: 'TOKEN',
      authorizationToken: header,
      methodArn: `arn:aws:execute-api:local-1:000000000000:explain/explain/${route.method}${route.path}`,
    } as APIGatewayTokenAuthorizerEvent,
    { ...deps, routes: createRouteAuthorizer(config) },
  );
}

/** iat, nbf and exp (those the token has) in human form and relative to the evaluation time. */
function tokenTimes(jwt: DecodedJwt, nowSeconds: number): ExplainReport['times'] {
  return (['iat', 'nbf', 'exp'] as const)
    .filter((claim) => typeof jwt.payload[claim] === 'number')
    .map((claim) => {
      const epoch = jwt.payload[claim] as number;
      return {
        claim,
        epoch,
        iso: isoTime(epoch),
        relative: relativeTime(epoch, nowSeconds),
      };
    });
}

/** The decoded token's checks: a compact JWT, then each Entra rule with pass or fail. */
function ruleChecks(jwt: DecodedJwt, config: AuthorizerConfig, nowSeconds: number): ExplainCheck[] {
  return [
    { check: 'a compact JWT (header.payload.signature, canonical base64url)', outcome: 'pass' },
    ...reportEntraRules(jwt, config, nowSeconds).map((r) => ({
      check: r.rule,
      outcome: r.outcome,
      detail: r.detail,
    })),
  ];
}

/** Whether the token may call the route, once the authorizer got as far as an Allow or a Deny. */
function permissionChecks(
  decision: { readonly outcome: Outcome; readonly reason: Reason; readonly detail: string },
  routeName: string,
  guestUsers: AuthorizerConfig['guestUsers'],
): ExplainCheck[] {
  if (decision.outcome !== 'allow' && decision.outcome !== 'deny') return [];
  const guest = decision.reason === 'guest_not_allowed';
  return [
    ...(guestUsers === 'refuse'
      ? [
          {
            check: `a member of the tenant, not a guest (${ENV_NAMES.guestUsers} is refuse)`,
            outcome: guest ? ('fail' as const) : ('pass' as const),
            ...(guest ? { detail: decision.detail } : {}),
          },
        ]
      : []),
    {
      check: `may call ${routeName} (allowed client apps, required scopes or roles, route permissions)`,
      outcome: decision.outcome === 'allow' ? 'pass' : guest ? 'skipped' : 'fail',
      detail: decision.outcome === 'deny' ? decision.detail : undefined,
    },
  ];
}

async function checkSignature(
  jwt: DecodedJwt,
  config: AuthorizerConfig,
  lookUp: ReturnType<typeof createKeyLookup>,
  keysError: string | undefined,
): Promise<{ result: ExplainReport['signature']; checks: ExplainCheck[] }> {
  const keyCheck = "the key set at the key URL (or the token tenant's own) holds the kid";
  if (keysError !== undefined) {
    return {
      result: {
        status: 'not_checked',
        detail: `the key set could not be fetched, so the signature was not verified: ${keysError}`,
      },
      checks: [{ check: keyCheck, outcome: 'skipped', detail: 'key set unreachable' }],
    };
  }
  const iss = typeof jwt.payload.iss === 'string' ? jwt.payload.iss : undefined;
  const tid = typeof jwt.payload.tid === 'string' ? jwt.payload.tid : undefined;
  if (jwt.header.alg !== 'RS256' || iss === undefined || tid === undefined) {
    return {
      result: {
        status: 'not_checked',
        detail: 'only RS256 tokens with iss and tid are checked against Entra keys',
      },
      checks: [{ check: keyCheck, outcome: 'skipped', detail: 'needs alg RS256, iss and tid' }],
    };
  }
  let key: SigningJwk;
  let uri: string;
  try {
    ({ key, uri } = await lookUp(jwt, headerKeyId(jwt.header) ?? '', tid));
  } catch (err) {
    const unreachable = err instanceof KeysUnavailableError;
    return {
      result: {
        status: 'not_checked',
        detail: unreachable
          ? `the key set could not be fetched, so the signature was not verified: ${(err as Error).message}`
          : `no key for this token in ${redactUrl(config.jwksUri)}: ${(err as Error).message}`,
      },
      checks: [
        { check: keyCheck, outcome: unreachable ? 'skipped' : 'fail', detail: (err as Error).message },
      ],
    };
  }
  const claims = { iss, tid } as Parameters<typeof keyServesIssuer>[1];
  const issuerOk = keyServesIssuer(key, claims, config.authorityHost);
  const valid = verifiesRs256(jwt, key);
  return {
    result: valid
      ? {
          status: 'verified',
          detail: `RS256 signature verified with key ${key.kid} from ${redactUrl(uri)}`,
        }
      : {
          status: 'invalid',
          detail: `the RS256 signature does not verify with key ${key.kid}: altered or forged`,
        },
    checks: [
      {
        check: keyCheck,
        outcome: 'pass',
        detail: `kid ${key.kid}${uri === config.jwksUri ? '' : `, in the tenant's own set ${redactUrl(uri)}`}`,
      },
      {
        check: 'the key signs for the token issuer',
        outcome: issuerOk ? 'pass' : 'fail',
        detail:
          key.issuer === undefined
            ? 'the key names no issuer'
            : `key issuer ${key.issuer}${issuerOk && claims.iss !== key.issuer.replaceAll('{tenantid}', claims.tid) ? " (a v2 key serves the same tenant's v1 tokens, and its cloud's other v2 issuer host)" : ''}`,
      },
      { check: 'the RS256 signature verifies', outcome: valid ? 'pass' : 'fail' },
    ],
  };
}

/**
 * The report as `npm run explain` prints it. Every line passes through `printable`: claim names and values,
 * hints and details carry text from the token, whose control characters could clear the operator's
 * screen, write the clipboard (OSC 52) or print a fake decision above the real one.
 */
export function renderExplanation(
  r: ExplainReport,
  { assumed, notes }: { readonly assumed: readonly string[]; readonly notes: readonly string[] },
): string {
  const lines: string[] = [];
  const mark = { pass: '✓', fail: '✗', skipped: '-' } as const;
  for (const note of assumed) lines.push(`note: assuming ${note}`);
  for (const note of notes) lines.push(`note: ${note}`);
  if (r.header !== undefined) {
    lines.push('', 'Header', `  ${JSON.stringify(r.header)}`, '', 'Claims');
    const width = Math.max(...Object.keys(r.payload ?? {}).map((k) => printable(k).length));
    for (const [k, v] of Object.entries(r.payload ?? {})) {
      const time = r.times.find((t) => t.claim === k);
      const shown = time !== undefined ? `${v}  ${time.iso} (${time.relative})` : JSON.stringify(v);
      lines.push(
        `  ${printable(k).padEnd(width)}  ${shown.length > 150 ? `${shown.slice(0, 150)}...` : shown}`,
      );
    }
  }
  lines.push('', 'Checks');
  for (const c of r.checks) lines.push(`  ${mark[c.outcome]} ${c.check}${c.detail ? `: ${c.detail}` : ''}`);
  lines.push('', 'Signature', `  ${r.signature.status}: ${r.signature.detail}`);
  if (r.tenantList !== undefined) lines.push('', 'Tenant list', `  ${r.tenantList}`);
  const answer = {
    200: 'Allow (200)',
    401: 'Unauthorized (401)',
    403: 'Deny (403)',
    500: 'authorizer failure (500)',
  }[r.decision.status];
  lines.push(
    '',
    'Decision',
    `  ${answer}, reason ${r.decision.reason}: ${r.decision.detail}`,
    '',
    'Hint',
    `  ${r.hint}`,
  );
  return lines.map(printable).join('\n');
}
