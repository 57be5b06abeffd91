import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuthorizerHandler, createLocalGateway, evaluatePolicy } from '../../infra/local/gateway.js';
import type { RouteDefinition } from '../../infra/routes.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';

const ARN = 'arn:aws:execute-api:local-1:000000000000:localapi/local';
const policy = (...statements: [string, string[]][]): APIGatewayAuthorizerResult['policyDocument'] =>
  ({
    Version: '2012-10-17',
    Statement: statements.map(([Effect, Resource]) => ({ Action: 'execute-api:Invoke', Effect, Resource })),
  }) as APIGatewayAuthorizerResult['policyDocument'];

describe('policy evaluation as API Gateway does it', () => {
  const cases: [string, APIGatewayAuthorizerResult['policyDocument'], string, boolean][] = [
    ['a stage-wide Allow', policy(['Allow', [`${ARN}/*`]]), `${ARN}/GET/whoami`, true],
    ['an Allow for another route', policy(['Allow', [`${ARN}/GET/items`]]), `${ARN}/GET/whoami`, false],
    [
      'an explicit Deny beside a wider Allow',
      policy(['Allow', [`${ARN}/*`]], ['Deny', [`${ARN}/GET/whoami`]]),
      `${ARN}/GET/whoami`,
      false,
    ],
    [
      'a wildcard across segments',
      policy(['Allow', [`${ARN}/DELETE/items/*`]]),
      `${ARN}/DELETE/items/1/parts`,
      true,
    ],
    ['a one-character wildcard', policy(['Allow', [`${ARN}/GET/item?`]]), `${ARN}/GET/items`, true],
    [
      'another API',
      policy(['Allow', ['arn:aws:execute-api:local-1:000000000000:other/local/*']]),
      `${ARN}/GET/whoami`,
      false,
    ],
    ['no statement', policy(), `${ARN}/GET/whoami`, false],
  ];
  it.each(cases)('%s', (_, document, arn, allowed) => {
    expect(evaluatePolicy(document, arn)).toBe(allowed);
  });
});

describe('the local gateway result cache', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  async function serve(authorizer: AuthorizerHandler, now: () => number) {
    const route: RouteDefinition = {
      method: 'GET',
      path: '/whoami',
      entry: '',
      id: 'Whoami',
      permission: {},
    };
    const backend = async (event: APIGatewayProxyEvent) => ({
      statusCode: 200,
      body: JSON.stringify(event.requestContext.authorizer),
    });
    const gateway = createLocalGateway({
      routes: [route],
      authorizer,
      backends: new Map([[route, backend]]),
      cacheTtlSeconds: 60,
      now,
    });
    server = createServer((req, res) => void gateway.handle(req, res));
    await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/whoami`;
    return { gateway, call: (auth: string) => fetch(url, { headers: { authorization: auth } }) };
  }

  it('reuses an answer per token within the TTL, then asks again', async () => {
    let clock = 1_000_000;
    const calls: string[] = [];
    const { call } = await serve(
      async (event) => {
        calls.push(event.methodArn);
        return {
          principalId: 'p',
          policyDocument: policy(['Allow', [`${ARN}/*`]]),
          context: { n: calls.length, yes: true },
        };
      },
      () => clock,
    );
    expect(await (await call('Bearer a.b.c')).json()).toEqual({ n: '1', yes: 'true', principalId: 'p' });
    clock += 59_000;
    expect((await call('Bearer a.b.c')).status).toBe(200);
    expect(calls).toHaveLength(1);
    clock += 2_000;
    expect((await call('Bearer a.b.c')).status).toBe(200);
    expect(calls).toEqual([`${ARN}/GET/whoami`, `${ARN}/GET/whoami`]);
  });

  it('answers 401 for Unauthorized and 500 for any other authorizer error', async () => {
    const { call } = await serve(async (event) => {
      throw new Error(event.authorizationToken === 'Bearer x.y.z' ? UNAUTHORIZED : 'boom');
    }, Date.now);
    expect((await call('Bearer x.y.z')).status).toBe(401);
    expect((await call('Bearer a.b.c')).status).toBe(500);
  });
});
