import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, PassthroughBehavior, ResponseType, RestApi } from 'aws-cdk-lib/aws-apigateway';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readApiModel, TemplateError } from '../../infra/local/api-template.js';
import { checkMapping, type MappingPlace } from '../../infra/local/mapping-expression.js';
import { cdkJsonContext } from '../../infra/local/sample-template.js';
import { SampleApiStack } from '../../infra/sample/sample-api-stack.js';

/*
 * The oracle: API Gateway's mapping expression rules, written here from the REST API developer guide and
 * independently of infra/local/mapping-expression.ts.
 * - "Parameter mapping source reference for REST APIs": integration request parameters come from
 *   method.request.{path|querystring|multivaluequerystring|header|multivalueheader}.<name>,
 *   method.request.body[.<JSONPath>], stageVariables.<name>, context.<supported variable> or a static value
 *   "enclosed within a pair of single quotes"; a source "must match the regular expression
 *   '^[a-zA-Z0-9._$-]+$'". Method response headers come from integration.response.{header|multivalueheader}
 *   .<name>, integration.response.body[.<JSONPath>], stageVariables, context variables or static values.
 * - "x-amazon-apigateway-integration.requestParameters": "The method request parameters must be defined
 *   before being referenced".
 * - "x-amazon-apigateway-gateway-responses.responseParameters": gatewayresponse.{header|path|querystring}
 *   .<name>, taking "any incoming request parameter value or a static custom value" (and, per "Gateway
 *   responses in API Gateway", $context and $stageVariables values).
 * - Method response parameters an integration response maps must be declared by the method response.
 */
const SOURCE_CHARS = /^[a-zA-Z0-9._$-]+$/;
const DOCUMENTED_CONTEXT = new Set(
  `accountId apiId authorizer.principalId awsEndpointRequestId domainName domainPrefix error.message
   error.messageString error.responseType error.validationErrorString extendedRequestId httpMethod
   identity.accountId identity.apiKey identity.apiKeyId identity.caller identity.cognitoAuthenticationProvider
   identity.cognitoAuthenticationType identity.cognitoIdentityId identity.cognitoIdentityPoolId
   identity.principalOrgId identity.sourceIp identity.user identity.userAgent identity.userArn isCanaryRequest
   path protocol requestId requestTime requestTimeEpoch resourceId resourcePath responseOverride.status stage
   wafResponseCode webaclArn xrayTraceId`.split(/\s+/),
);
const CONTEXT_PREFIXES = [
  'authorizer.',
  'identity.clientCert.',
  'requestOverride.header.',
  'requestOverride.path.',
  'requestOverride.querystring.',
  'responseOverride.header.',
];
const REQUEST_LOCATIONS = ['path', 'querystring', 'multivaluequerystring', 'header', 'multivalueheader'];

interface Declared {
  methodRequest?: Set<string>;
  methodResponse?: Set<string>;
}

/** Why API Gateway would refuse `key: value` in `place`, or undefined when it accepts it. */
function oracle(
  place: MappingPlace,
  key: string,
  value: unknown,
  declared: Declared = {},
): string | undefined {
  const keyPrefixes = {
    gatewayResponse: ['gatewayresponse.header.', 'gatewayresponse.path.', 'gatewayresponse.querystring.'],
    integrationRequest: [
      'integration.request.header.',
      'integration.request.path.',
      'integration.request.querystring.',
    ],
    integrationResponse: ['method.response.header.'],
  }[place];
  const keyPrefix = keyPrefixes.find((p) => key.startsWith(p));
  if (keyPrefix === undefined || !SOURCE_CHARS.test(key.slice(keyPrefix.length))) return 'bad key';
  if (place === 'integrationResponse' && !declared.methodResponse?.has(key))
    return 'undeclared response header';
  if (typeof value !== 'string') return 'not a string';
  if (value.startsWith("'")) {
    return value.length >= 2 && value.endsWith("'") && !value.slice(1, -1).includes("'")
      ? undefined
      : 'unterminated literal';
  }
  const sources: string[] = ['stageVariables.', 'context.'];
  if (place !== 'integrationResponse') sources.push(...REQUEST_LOCATIONS.map((l) => `method.request.${l}.`));
  if (place === 'integrationResponse') {
    sources.push('integration.response.header.', 'integration.response.multivalueheader.');
  }
  const body =
    place === 'integrationRequest'
      ? 'method.request.body'
      : place === 'integrationResponse'
        ? 'integration.response.body'
        : undefined;
  if (body !== undefined && (value === body || value.startsWith(`${body}.`))) {
    return value === body || /^[A-Za-z0-9._$\-[\]'*@]+$/.test(value.slice(body.length + 1))
      ? undefined
      : 'bad path';
  }
  if (!SOURCE_CHARS.test(value)) return 'not a mapping expression';
  const prefix = sources.find((p) => value.startsWith(p));
  if (prefix === undefined) return 'unknown source';
  const name = value.slice(prefix.length);
  if (name === '') return 'no name';
  if (prefix === 'stageVariables.') return /^[A-Za-z0-9_]+$/.test(name) ? undefined : 'bad stage variable';
  if (prefix === 'context.') {
    return DOCUMENTED_CONTEXT.has(name) ||
      CONTEXT_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length)
      ? undefined
      : 'unknown context variable';
  }
  if (place === 'integrationRequest') {
    const [, location = ''] = /^method\.request\.([a-z]+)\./.exec(value) ?? [];
    const singular = location.replace('multivalue', '');
    const n = value.slice(`method.request.${location}.`.length);
    if (
      !declared.methodRequest?.has(`method.request.${location}.${n}`) &&
      !declared.methodRequest?.has(`method.request.${singular}.${n}`)
    ) {
      return 'method request parameter not declared';
    }
  }
  return undefined;
}

interface FoundMapping {
  readonly where: string;
  readonly place: MappingPlace;
  readonly key: string;
  readonly value: unknown;
  readonly declared: Declared;
}

type Json = Record<string, unknown>;
const keysOf = (v: unknown) => new Set(Object.keys((v ?? {}) as Json));

/** Every mapping expression of a template: gateway responses, integration requests and responses. */
function mappingsOf(template: {
  Resources: Record<string, { Type: string; Properties?: Json }>;
}): FoundMapping[] {
  const found: FoundMapping[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::ApiGateway::GatewayResponse') {
      for (const [key, value] of Object.entries((p.ResponseParameters ?? {}) as Json)) {
        found.push({ where: id, place: 'gatewayResponse', key, value, declared: {} });
      }
    }
    if (resource.Type === 'AWS::ApiGateway::Method') {
      const integration = (p.Integration ?? {}) as Json;
      for (const [key, value] of Object.entries((integration.RequestParameters ?? {}) as Json)) {
        found.push({
          where: id,
          place: 'integrationRequest',
          key,
          value,
          declared: { methodRequest: keysOf(p.RequestParameters) },
        });
      }
      const methodResponses = (p.MethodResponses ?? []) as Json[];
      for (const response of (integration.IntegrationResponses ?? []) as Json[]) {
        const declared = keysOf(
          methodResponses.find((m) => m.StatusCode === response.StatusCode)?.ResponseParameters,
        );
        for (const [key, value] of Object.entries((response.ResponseParameters ?? {}) as Json)) {
          found.push({
            where: id,
            place: 'integrationResponse',
            key,
            value,
            declared: { methodResponse: declared },
          });
        }
      }
    }
  }
  return found;
}

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
// Built-in validation off: these tests check the template themselves, and it costs seconds per synth.
const app = () =>
  new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
  });
const sampleTemplate = (allowOrigin?: string) =>
  Template.fromStack(
    new SampleApiStack(app(), 'EntraAuthorizerSample', {
      entra: { tenantId: TENANT, clientId: CLIENT },
      allowOrigin,
    }),
  ).toJSON() as Parameters<typeof mappingsOf>[0];

const refusals = (mappings: FoundMapping[]) =>
  mappings
    .map((m) => ({ ...m, problem: oracle(m.place, m.key, m.value, m.declared) }))
    .filter((m) => m.problem !== undefined)
    .map((m) => `${m.where} ${m.key} = ${JSON.stringify(m.value)}: ${m.problem}`);

describe('every mapping expression the stacks synthesize is one API Gateway accepts', () => {
  it.each([['*'], ['https://app.example.com']])('the sample stack, allowOrigin %s', (origin) => {
    const mappings = mappingsOf(sampleTemplate(origin));
    const places = new Set(mappings.map((m) => m.place));
    // The 401/403/500 and DEFAULT_4XX/5XX gateway responses and the CORS preflight's integration responses.
    expect(places).toEqual(new Set(['gatewayResponse', 'integrationResponse']));
    expect(mappings.filter((m) => m.place === 'gatewayResponse').length).toBeGreaterThanOrEqual(10);
    expect(refusals(mappings)).toEqual([]);
  });

  it('the construct’s addGatewayResponses on a REST API of the user’s own', async () => {
    const { EntraTokenAuthorizer } = await import('../../infra/construct/entra-token-authorizer.js');
    const stack = new Stack(app(), 'Own');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
    const api = new RestApi(stack, 'Api');
    api.root.addMethod('GET', undefined, { authorizer: entra.authorizer });
    entra.addGatewayResponses(api, { allowOrigin: 'http://127.0.0.1:5173' });
    const mappings = mappingsOf(Template.fromStack(stack).toJSON() as Parameters<typeof mappingsOf>[0]);
    expect(mappings.length).toBeGreaterThanOrEqual(12);
    expect(refusals(mappings)).toEqual([]);
  });

  it('integration request parameters too, where a method has them', () => {
    const stack = new Stack(app(), 'Mapped');
    const api = new RestApi(stack, 'Api');
    api.root.addMethod(
      'GET',
      new MockIntegration({
        requestParameters: {
          'integration.request.header.x-caller': 'method.request.header.x-caller',
          'integration.request.querystring.stage': 'context.stage',
          'integration.request.header.x-fixed': "'yes'",
        },
        requestTemplates: { 'application/json': '{ "statusCode": 200 }' },
        passthroughBehavior: PassthroughBehavior.NEVER,
        integrationResponses: [{ statusCode: '200' }],
      }),
      {
        requestParameters: { 'method.request.header.x-caller': false },
        methodResponses: [{ statusCode: '200' }],
      },
    );
    const mappings = mappingsOf(Template.fromStack(stack).toJSON() as Parameters<typeof mappingsOf>[0]);
    expect(mappings.filter((m) => m.place === 'integrationRequest')).toHaveLength(3);
    expect(refusals(mappings)).toEqual([]);
  });
});

describe('a template API Gateway would refuse', () => {
  // DEFAULT_4XX/5XX responses with their header values left unquoted, a mistake CDK does not catch at synth.
  function unquotedDefaults() {
    const stack = new Stack(app(), 'Unquoted');
    const api = new RestApi(stack, 'Api');
    api.root.addMethod('GET');
    for (const type of [ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX]) {
      api.addGatewayResponse(type.responseType, {
        type,
        responseHeaders: {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Headers': 'Authorization,Content-Type',
        },
      });
    }
    return Template.fromStack(stack).toJSON() as Parameters<typeof mappingsOf>[0];
  }

  it('is caught by the oracle: DEFAULT_4XX/5XX header values written unquoted', () => {
    const problems = refusals(mappingsOf(unquotedDefaults()));
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/gatewayresponse\.header\.Access-Control-Allow-Origin = "\*"/);
    expect(problems.join('\n')).toMatch(/Access-Control-Allow-Headers = "Authorization,Content-Type"/);
  });

  it('makes npm start refuse it, naming the resource and the parameter', () => {
    expect(() => readApiModel(unquotedDefaults())).toThrow(TemplateError);
    expect(() => readApiModel(unquotedDefaults())).toThrow(
      /ApiDEFAULT4XX\w* \(AWS::ApiGateway::GatewayResponse DEFAULT_4XX\): ResponseParameters\["gatewayresponse\.header\.Access-Control-Allow-Origin"\]: the value "\*" is not a mapping expression/,
    );
  });
});

describe('the local gateway’s grammar agrees with the documented one', () => {
  const ident = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}$/);
  const piece = fc.constantFrom(
    'method.request.header.',
    'method.request.multivalueheader.',
    'method.request.path.',
    'method.request.querystring.',
    'method.request.multivaluequerystring.',
    'method.request.body',
    'method.request.body.',
    'method.request.',
    'integration.response.header.',
    'integration.response.multivalueheader.',
    'integration.response.body',
    'integration.response.body.',
    'integration.response.',
    'stageVariables.',
    'context.',
    'context.authorizer.',
    'context.identity.',
    'context.error.',
    'context.requestOverride.header.',
    'method.response.header.',
    "'",
    '',
  );
  const tail = fc.oneof(
    ident,
    fc.constantFrom(
      'requestId',
      'stage',
      'sourceIp',
      'messageString',
      'nope',
      'principalId',
      'a.b',
      'x y',
      "a'b",
      '*',
      '',
    ),
  );
  const expression = fc.oneof(
    fc.tuple(piece, tail).map(([p, t]) => p + t),
    fc.tuple(piece, tail).map(([p, t]) => `'${p}${t}'`),
    fc.string({ maxLength: 12 }),
    fc.string({ unit: fc.constantFrom("'", '.', 'a', '$', '-', ' ', 'context', 'method'), maxLength: 8 }),
  );
  const validKey: Record<MappingPlace, string[]> = {
    gatewayResponse: ['gatewayresponse.header.', 'gatewayresponse.querystring.'],
    integrationRequest: ['integration.request.header.', 'integration.request.path.'],
    integrationResponse: ['method.response.header.'],
  };
  const keyFor = (where: MappingPlace) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...validKey[where]), ident).map(([p, t]) => p + t) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              'gatewayresponse.header.',
              'integration.request.header.',
              'method.response.header.',
              'gatewayresponse.',
              '',
            ),
            fc.oneof(ident, fc.constantFrom('Access-Control-Allow-Origin', 'a b', '')),
          )
          .map(([p, t]) => p + t),
      },
    );
  const cases = fc
    .constantFrom<MappingPlace>('gatewayResponse', 'integrationRequest', 'integrationResponse')
    .chain((where) => fc.tuple(fc.constant(where), keyFor(where), expression, fc.boolean()));

  it('accepts and refuses the same expressions', () => {
    const seen = { accepted: 0, refused: 0 };
    // Oracle: oracle() above, API Gateway's documented mapping-expression rules, not mapping-expression.ts
    fc.assert(
      fc.property(cases, ([where, k, value, declare]) => {
        const declared: Declared = {
          // Declare the referenced parameter (or not), so both branches of the "must be defined" rule run.
          methodRequest: new Set(
            declare && typeof value === 'string' ? [value, value.replace('multivalue', '')] : [],
          ),
          methodResponse: new Set(declare ? [k] : []),
        };
        let accepted = true;
        try {
          checkMapping(where, k, value, {
            methodRequestParameters: declared.methodRequest,
            methodResponseParameters: declared.methodResponse,
          });
        } catch {
          accepted = false;
        }
        expect(accepted).toBe(oracle(where, k, value, declared) === undefined);
        seen[accepted ? 'accepted' : 'refused']++;
      }),
      { numRuns: 3000 },
    );
    // Both verdicts are exercised, not just the easy refusals.
    expect(seen.accepted).toBeGreaterThan(300);
    expect(seen.refused).toBeGreaterThan(300);
  });
});
