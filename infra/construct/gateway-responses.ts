import { Token } from 'aws-cdk-lib';
import { GatewayResponse, type IRestApi, ResponseType } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { CHALLENGE_CONTEXT_KEY } from '../../lambda/authorizer/challenge-key.js';
import { isAllowOrigin } from '../../lambda/shared/cors.js';
import { PropsError } from './errors.js';
import { checkKnownProps, type KnownProps } from './known-props.js';

export interface GatewayResponseOptions {
  /**
   * The realm of the `WWW-Authenticate` challenges.
   * @default - the API's name
   */
  readonly realm?: string;
  /**
   * The origin browser scripts may read these answers from: `*` or one origin such as
   * `https://app.example.com`. Use the same value as your CORS preflight and your backends.
   * @default '*'
   */
  readonly allowOrigin?: string;
}

const GATEWAY_RESPONSE_OPTIONS = {
  realm: true,
  allowOrigin: true,
} as const satisfies KnownProps<GatewayResponseOptions>;

/**
 * The RFC 6750 challenges. A gateway response is chosen by its type alone and its header values are static
 * mapping expressions, so one UNAUTHORIZED answer serves a request without a token, one whose header the
 * validation expression refuses and one whose token the authorizer refuses. RFC 6750 §3.1 says an answer
 * to a request without credentials should carry no error code, so the 401 challenge names only the realm;
 * clients treat any 401 as "get a (new) token".
 */
const ANSWERS = [
  { type: 'UNAUTHORIZED', statusCode: '401', message: 'Unauthorized', challenge: 'realm' },
  // The Deny's own challenge, from its context: `scope="..."` names the scopes the token lacks (no realm:
  // a mapping expression is one source, and the authorizer does not know the realm; RFC 6750 makes it optional).
  { type: 'ACCESS_DENIED', statusCode: '403', message: 'Forbidden', challenge: 'context' },
  // A failure of the authorizer itself: a thrown error other than Unauthorized (configuration error) or
  // an answer API Gateway cannot use. No challenge: the caller did nothing wrong.
  {
    type: 'AUTHORIZER_CONFIGURATION_ERROR',
    statusCode: '500',
    message: 'Authorizer failure',
    challenge: null,
  },
  { type: 'AUTHORIZER_FAILURE', statusCode: '500', message: 'Authorizer failure', challenge: null },
] as const;

/** API Gateway takes header values as mapping expressions: a literal is written in single quotes. */
function literal(option: string, value: string): string {
  if (value.includes("'"))
    throw new PropsError('addGatewayResponses', option, 'without a single quote', value);
  return `'${value}'`;
}

/**
 * The 401/403/500 gateway responses of an API guarded by the Entra authorizer, and CORS on every other
 * 4XX/5XX the gateway answers (DEFAULT_4XX, DEFAULT_5XX: Missing Authentication Token, throttling, ...),
 * so a browser script sees the real status. 401 and 403 expose `WWW-Authenticate` to scripts.
 */
export function addEntraGatewayResponses(api: IRestApi, options: GatewayResponseOptions = {}): void {
  checkKnownProps('addGatewayResponses', options, GATEWAY_RESPONSE_OPTIONS);
  // Any IRestApi: a RestApi, a SpecRestApi (a response declared here and one in its OpenAPI document under
  // x-amazon-apigateway-gateway-responses for the same type would be two definitions: keep one) or an
  // imported API. The responses are created beside its methods, as RestApi.addGatewayResponse does.
  const scope = api as unknown as Construct;
  const settings = JSON.stringify(options);
  const earlier = ADDED.get(api);
  if (earlier !== undefined) {
    // Twice with the same options (two authorizers on one API, say) is once; different options would be
    // two answers for one response type, which API Gateway cannot hold.
    if (earlier === settings) return;
    throw new PropsError(
      'addGatewayResponses',
      'options',
      `those of its first call for ${api.node.path} (${earlier}): an API has one gateway response per type`,
      options,
    );
  }
  const realm = options.realm ?? api.restApiName;
  if (Token.isUnresolved(realm) || !/^[\x20-\x7e]+$/.test(realm) || /["\\]/.test(realm)) {
    throw new PropsError(
      'addGatewayResponses',
      options.realm === undefined
        ? 'realm (by default the API name, which cannot serve here: pass { realm })'
        : 'realm',
      'printable ASCII without quotes or backslashes, known at synth',
      realm,
    );
  }
  const allowOrigin = options.allowOrigin ?? '*';
  if (!isAllowOrigin(allowOrigin)) {
    throw new PropsError(
      'addGatewayResponses',
      'allowOrigin',
      '"*" or one origin such as https://app.example.com',
      allowOrigin,
    );
  }
  // A named origin makes the answer depend on the request's Origin, which caches must know.
  const cors = {
    'Access-Control-Allow-Origin': literal('allowOrigin', allowOrigin),
    ...(allowOrigin === '*' ? {} : { Vary: "'Origin'" }),
  };
  for (const answer of ANSWERS) {
    const challenge: Record<string, string> =
      answer.challenge === null
        ? {}
        : {
            'WWW-Authenticate':
              answer.challenge === 'context'
                ? `context.authorizer.${CHALLENGE_CONTEXT_KEY}`
                : literal('realm', `Bearer realm="${realm}"`),
            'Access-Control-Expose-Headers': "'WWW-Authenticate'",
          };
    new GatewayResponse(scope, answer.type, {
      restApi: api,
      type: ResponseType.of(answer.type),
      statusCode: answer.statusCode,
      responseHeaders: { ...cors, ...challenge },
      templates: { 'application/json': JSON.stringify({ message: answer.message }) },
    });
  }
  new GatewayResponse(scope, 'Default4xx', {
    restApi: api,
    type: ResponseType.DEFAULT_4XX,
    responseHeaders: cors,
  });
  new GatewayResponse(scope, 'Default5xx', {
    restApi: api,
    type: ResponseType.DEFAULT_5XX,
    responseHeaders: cors,
  });
  ADDED.set(api, settings);
}

/** The options each API's responses were added with. */
const ADDED = new WeakMap<IRestApi, string>();
