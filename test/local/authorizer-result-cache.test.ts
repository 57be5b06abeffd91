import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readApiModel } from '../../infra/local/api-template.js';
import {
  type AuthorizerResultCache,
  type CachedDecision,
  createBoundedResultCache,
  createLocalGateway,
} from '../../infra/local/gateway.js';

const decision = (principalId: string): CachedDecision => ({
  result: { principalId, policyDocument: { Version: '2012-10-17', Statement: [] } },
  expires: 0,
});

describe('the default authorizer-result cache', () => {
  it('holds at most its bound, always the latest decision, and with distinct keys exactly the newest ones', () => {
    // Oracle: a bounded most-recent cache as specified: at most `bound` keys, the newest ones, counted in the test
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 60 }),
        fc.boolean(),
        (bound, keys, distinct) => {
          const sequence = distinct ? [...new Set(keys)] : keys;
          const cache = createBoundedResultCache(bound);
          sequence.forEach((k, i) => {
            cache.set(`k${k}`, decision(`p${i}`));
          });
          const held = [...new Set(sequence)].filter((k) => cache.get(`k${k}`) !== undefined);
          expect(held.length).toBeLessThanOrEqual(bound);
          if (sequence.length > 0) {
            const last = sequence.length - 1;
            expect(cache.get(`k${sequence[last]}`)?.result.principalId).toBe(`p${last}`);
          }
          if (distinct) expect(held).toEqual(sequence.slice(-bound));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a gateway given its own authorizer-result cache', () => {
  const api = { Ref: 'Api' };
  const model = readApiModel({
    Resources: {
      Api: { Type: 'AWS::ApiGateway::RestApi' },
      Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: api, StageName: 'test' } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
      Auth: {
        Type: 'AWS::ApiGateway::Authorizer',
        Properties: {
          RestApiId: api,
          Type: 'TOKEN',
          IdentitySource: 'method.request.header.Authorization',
          AuthorizerResultTtlInSeconds: 60,
          AuthorizerUri: { 'Fn::GetAtt': ['Fn', 'Arn'] },
        },
      },
      Get: {
        Type: 'AWS::ApiGateway::Method',
        Properties: {
          RestApiId: api,
          ResourceId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
          HttpMethod: 'GET',
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: 'Auth' },
          Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
        },
      },
    },
  });
  const allowEverything: APIGatewayAuthorizerResult = {
    principalId: 'from-the-cache',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }],
    },
  };

  it('answers from a decision it holds without calling the authorizer, and stores fresh decisions in it', async () => {
    const stored = new Map<string, CachedDecision>([
      ['Auth\nseeded', { result: allowEverything, expires: 2_000_000 }],
    ]);
    const cache: AuthorizerResultCache = { get: (k) => stored.get(k), set: (k, d) => stored.set(k, d) };
    const tokens: string[] = [];
    const gateway = createLocalGateway({
      api: model,
      now: () => 1_000_000,
      authorizerCache: cache,
      functions: new Map([
        [
          'Fn',
          async (event: { authorizationToken?: string; requestContext?: { authorizer: unknown } }) => {
            if (event.authorizationToken === undefined) {
              return { statusCode: 200, body: JSON.stringify(event.requestContext?.authorizer) };
            }
            tokens.push(event.authorizationToken);
            return { ...allowEverything, principalId: 'asked' };
          },
        ],
      ]),
    });
    const server = createServer((req, res) => void gateway.handle(req, res));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const seeded = await fetch(`${base}/`, { headers: { authorization: 'seeded' } });
      expect(seeded.status).toBe(200);
      // The backend sees the decision's principal, and the authorizer's latency (the clock stands still).
      expect(await seeded.json()).toEqual({ principalId: 'from-the-cache', integrationLatency: 0 });
      const fresh = await fetch(`${base}/`, { headers: { authorization: 'fresh' } });
      expect(await fresh.json()).toEqual({ principalId: 'asked', integrationLatency: 0 });
      expect(tokens).toEqual(['fresh']);
      // The authorizer's TTL (60 s) from the gateway's clock.
      expect(stored.get('Auth\nfresh')?.expires).toBe(1_060_000);
      expect(gateway.stats).toEqual({ authorizerCalls: 1, cacheHits: 1 });
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});
