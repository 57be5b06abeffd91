/**
 * API Gateway's parameter mapping expressions, as the REST API developer guide defines them:
 * - "API Gateway mapping template and access logging variable reference" ($context variables);
 * - "Parameter mapping source reference for REST APIs" / "API request and response data mapping reference"
 *   (integration request and method response sources; a static value "must be enclosed within a pair of
 *   single quotes"; a source expression "must match the regular expression '^[a-zA-Z0-9._$-]+$'");
 * - "x-amazon-apigateway-gateway-responses.responseParameters" (gatewayresponse.{header|path|querystring}.name
 *   from any incoming request parameter, a stage variable, a context variable or a static value).
 * CloudFormation refuses anything else with "Invalid mapping expression specified".
 */

/** Where a mapping appears; each place has its own targets and its own allowed sources. */
export type MappingPlace = 'gatewayResponse' | 'integrationRequest' | 'integrationResponse';

const NAME = '[A-Za-z0-9._$-]+';
/** A JSONPath into a body, written without the leading `$.`. */
const JSON_PATH = "[A-Za-z0-9._$\\-\\[\\]'*@]+";

const TARGETS: Record<MappingPlace, RegExp> = {
  gatewayResponse: new RegExp(`^gatewayresponse\\.(header|path|querystring)\\.(${NAME})$`),
  integrationRequest: new RegExp(`^integration\\.request\\.(header|path|querystring)\\.(${NAME})$`),
  integrationResponse: new RegExp(`^method\\.response\\.header\\.(${NAME})$`),
};

const METHOD_REQUEST_PARAMETER = new RegExp(
  `^method\\.request\\.(path|querystring|multivaluequerystring|header|multivalueheader)\\.(${NAME})$`,
);
const METHOD_REQUEST_BODY = new RegExp(`^method\\.request\\.body(\\.${JSON_PATH})?$`);
const INTEGRATION_RESPONSE_HEADER = new RegExp(
  `^integration\\.response\\.(header|multivalueheader)\\.(${NAME})$`,
);
const INTEGRATION_RESPONSE_BODY = new RegExp(`^integration\\.response\\.body(\\.${JSON_PATH})?$`);
const STAGE_VARIABLE = /^stageVariables\.([A-Za-z0-9_]+)$/;
const CONTEXT_VARIABLE = new RegExp(`^context\\.(${NAME})$`);
/** A static value: any text in one pair of single quotes (a quote inside would end the literal). */
const LITERAL = /^'([^']*)'$/;

/** The `$context` variables the reference lists for mapping (access-log-only ones excluded). */
const CONTEXT_VARIABLES = new Set([
  'accountId',
  'apiId',
  'authorizer.principalId',
  'awsEndpointRequestId',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'error.validationErrorString',
  'extendedRequestId',
  'httpMethod',
  'identity.accountId',
  'identity.apiKey',
  'identity.apiKeyId',
  'identity.caller',
  'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType',
  'identity.cognitoIdentityId',
  'identity.cognitoIdentityPoolId',
  'identity.principalOrgId',
  'identity.sourceIp',
  'identity.user',
  'identity.userAgent',
  'identity.userArn',
  'isCanaryRequest',
  'path',
  'protocol',
  'requestId',
  'requestTime',
  'requestTimeEpoch',
  'resourceId',
  'resourcePath',
  'responseOverride.status',
  'stage',
  'wafResponseCode',
  'webaclArn',
  'xrayTraceId',
]);
/** Families whose member names are the API's own (authorizer context keys, Cognito claims, overrides). */
const CONTEXT_FAMILIES = [
  'authorizer.',
  'identity.clientCert.',
  'requestOverride.header.',
  'requestOverride.path.',
  'requestOverride.querystring.',
  'responseOverride.header.',
];

function isContextVariable(name: string): boolean {
  return (
    CONTEXT_VARIABLES.has(name) || CONTEXT_FAMILIES.some((f) => name.startsWith(f) && name.length > f.length)
  );
}

/** A parsed source expression. */
export type MappingSource =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'methodRequest'; readonly location: string; readonly name: string }
  | { readonly kind: 'methodRequestBody'; readonly path: string | undefined }
  | { readonly kind: 'integrationResponseHeader'; readonly multiValue: boolean; readonly name: string }
  | { readonly kind: 'integrationResponseBody'; readonly path: string | undefined }
  | { readonly kind: 'stageVariable'; readonly name: string }
  | { readonly kind: 'context'; readonly name: string };

export interface MappingTarget {
  readonly location: string;
  readonly name: string;
}

/** What the method declares, for the rules that refer to it. */
export interface MappingDeclarations {
  /** The method's `RequestParameters` keys (`method.request.header.Authorization`, ...). */
  readonly methodRequestParameters?: ReadonlySet<string>;
  /** The method response's `ResponseParameters` keys for the integration response's status code. */
  readonly methodResponseParameters?: ReadonlySet<string>;
}

export class MappingExpressionError extends Error {
  override readonly name = 'MappingExpressionError';
}

const fail = (message: string): never => {
  throw new MappingExpressionError(message);
};

/** The target of a mapping key (`gatewayresponse.header.X`, ...), or an error saying what is accepted. */
function parseMappingTarget(place: MappingPlace, key: string): MappingTarget {
  const match = TARGETS[place].exec(key);
  if (match === null) {
    const expected: Record<MappingPlace, string> = {
      gatewayResponse: 'gatewayresponse.{header|path|querystring}.<name>',
      integrationRequest: 'integration.request.{header|path|querystring}.<name>',
      integrationResponse: 'method.response.header.<name>',
    };
    return fail(`the key ${JSON.stringify(key)} is not ${expected[place]}`);
  }
  return place === 'integrationResponse'
    ? { location: 'header', name: match[1] as string }
    : { location: match[1] as string, name: match[2] as string };
}

/** A source expression, parsed as API Gateway reads it in `place`; anything else throws, saying why. */
function parseMappingSource(
  place: MappingPlace,
  expression: unknown,
  declared: MappingDeclarations = {},
): MappingSource {
  if (typeof expression !== 'string') {
    return fail(
      `the value ${JSON.stringify(expression)} is not a string (intrinsic functions cannot be checked before deploy)`,
    );
  }
  const literal = LITERAL.exec(expression);
  if (literal !== null) return { kind: 'literal', value: literal[1] as string };
  if (expression.startsWith("'") || expression.endsWith("'")) {
    return fail(`the value ${JSON.stringify(expression)} is not one single-quoted literal`);
  }
  const stage = STAGE_VARIABLE.exec(expression);
  if (stage !== null) return { kind: 'stageVariable', name: stage[1] as string };
  const context = CONTEXT_VARIABLE.exec(expression);
  if (context !== null) {
    const name = context[1] as string;
    if (!isContextVariable(name)) {
      return fail(`context.${name} is not one of API Gateway's context variables`);
    }
    return { kind: 'context', name };
  }
  if (place === 'gatewayResponse' || place === 'integrationRequest') {
    const parameter = METHOD_REQUEST_PARAMETER.exec(expression);
    if (parameter !== null) {
      const location = parameter[1] as string;
      const name = parameter[2] as string;
      // An integration request may only map method request parameters the method declares.
      if (place === 'integrationRequest') {
        const singular = location.replace('multivalue', '');
        const keys = [`method.request.${location}.${name}`, `method.request.${singular}.${name}`];
        if (!keys.some((k) => declared.methodRequestParameters?.has(k))) {
          return fail(`${expression} is not declared in the method's RequestParameters`);
        }
      }
      return { kind: 'methodRequest', location, name };
    }
    const body = METHOD_REQUEST_BODY.exec(expression);
    if (body !== null && place === 'integrationRequest') {
      return { kind: 'methodRequestBody', path: body[1]?.slice(1) };
    }
  }
  if (place === 'integrationResponse') {
    const header = INTEGRATION_RESPONSE_HEADER.exec(expression);
    if (header !== null) {
      return {
        kind: 'integrationResponseHeader',
        multiValue: header[1] === 'multivalueheader',
        name: header[2] as string,
      };
    }
    const body = INTEGRATION_RESPONSE_BODY.exec(expression);
    if (body !== null) return { kind: 'integrationResponseBody', path: body[1]?.slice(1) };
  }
  const allowed: Record<MappingPlace, string> = {
    gatewayResponse:
      "'<literal>', method.request.<location>.<name>, stageVariables.<name> or context.<variable>",
    integrationRequest:
      "'<literal>', method.request.<location>.<name>, method.request.body[.<path>], stageVariables.<name> or context.<variable>",
    integrationResponse:
      "'<literal>', integration.response.{header|multivalueheader}.<name>, integration.response.body[.<path>], stageVariables.<name> or context.<variable>",
  };
  return fail(
    `the value ${JSON.stringify(expression)} is not a mapping expression; expected ${allowed[place]}`,
  );
}

/** Checks one mapping (key and value) in `place`; throws MappingExpressionError naming what is wrong. */
export function checkMapping(
  place: MappingPlace,
  key: string,
  value: unknown,
  declared: MappingDeclarations = {},
): { target: MappingTarget; source: MappingSource } {
  const target = parseMappingTarget(place, key);
  if (place === 'integrationResponse' && !declared.methodResponseParameters?.has(key)) {
    fail(`${key} is not declared in the method response for this status code`);
  }
  return { target, source: parseMappingSource(place, value, declared) };
}

/** What a source can read at run time. Header names are matched case-insensitively. */
export interface MappingInputs {
  readonly methodRequest?: {
    readonly header: Readonly<Record<string, readonly string[]>>;
    readonly path: Readonly<Record<string, string>>;
    readonly querystring: Readonly<Record<string, readonly string[]>>;
    readonly body?: string;
  };
  readonly integrationResponse?: {
    readonly header: Readonly<Record<string, readonly string[]>>;
    readonly body: string;
  };
  readonly stageVariables?: Readonly<Record<string, string>>;
  readonly context?: (name: string) => string | undefined;
}

const lookup = (map: Readonly<Record<string, readonly string[]>>, name: string) =>
  Object.entries(map).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

function jsonPath(body: string | undefined, path: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  if (path === undefined) return body;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The value a parsed source yields, or undefined when it has none (the parameter is then left out). */
export function evaluateMapping(source: MappingSource, inputs: MappingInputs): string | undefined {
  switch (source.kind) {
    case 'literal':
      return source.value;
    case 'stageVariable':
      return inputs.stageVariables?.[source.name];
    case 'context':
      return inputs.context?.(source.name);
    case 'methodRequest': {
      const request = inputs.methodRequest;
      if (request === undefined) return undefined;
      if (source.location === 'path') return request.path[source.name];
      const values = source.location.endsWith('header')
        ? lookup(request.header, source.name)
        : request.querystring[source.name];
      if (values === undefined || values.length === 0) return undefined;
      // A single-value source reads the last value, a multi-value one all of them.
      return source.location.startsWith('multivalue') ? values.join(',') : values.at(-1);
    }
    case 'methodRequestBody':
      return jsonPath(inputs.methodRequest?.body, source.path);
    case 'integrationResponseHeader': {
      const values = inputs.integrationResponse && lookup(inputs.integrationResponse.header, source.name);
      if (values === undefined || values.length === 0) return undefined;
      return source.multiValue ? values.join(',') : values.at(-1);
    }
    case 'integrationResponseBody':
      return jsonPath(inputs.integrationResponse?.body, source.path);
  }
}
