import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnResource, CfnTemplate } from '../../infra/local/api-template.js';
import {
  AssemblyError,
  newerSourceThan,
  pickGuardedApi,
  readAssemblyStacks,
} from '../../infra/local/assembly.js';
import {
  type AssemblyServer,
  issuerSettingsOf,
  startAssemblyServer,
} from '../../infra/local/assembly-server.js';
import { LOCAL_TENANT_ID } from '../../infra/local/issuer.js';

/**
 * `entra-authorizer start` on hand-made cloud assemblies, in process: functions run from their asset
 * folders on worker threads, the failure paths answered as API Gateway answers them, and what cannot be
 * emulated named at start and answered 501. (The packaged command on a real `cdk synth` is in
 * test/package/local-cli.test.ts.)
 */

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const work = mkdtempSync(join(tmpdir(), 'entra-assembly-'));

/** The assembly in `dir` on a free port, the Backend function given TABLE as an --env file would. */
const serveWithBackendEnv = (dir: string) =>
  startAssemblyServer({
    assemblyDir: dir,
    port: 0,
    dataDir: join(work, 'key'),
    envFile: { Backend: { TABLE: 'items-local' } },
  });

afterAll(() => rmSync(work, { recursive: true, force: true }));

const api = { Ref: 'Api' };
const ROOT = { 'Fn::GetAtt': ['Api', 'RootResourceId'] };

/** A TOKEN authorizer's code: `Bearer good` is allowed, `Bearer boom` fails, anything else is a 401. */
const AUTHORIZER_CODE = `exports.handler = async (event) => {
  if (event.authorizationToken === 'Bearer boom') throw new Error('boom');
  if (event.authorizationToken !== 'Bearer good') throw new Error('Unauthorized');
  return {
    principalId: 'p',
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] },
    context: { oid: 'oid-1' },
  };
};`;

/** A backend: counts its calls (module state), reports its environment, and fails as asked. */
const BACKEND_CODE = `let calls = 0;
exports.handler = async (event, context) => {
  const mode = event.queryStringParameters?.mode;
  if (mode === 'throw') throw new Error('boom');
  if (mode === 'malformed') return { statusCode: 'abc' };
  if (mode === 'spin') for (;;) {}
  if (mode === 'wait') await new Promise((done) => setTimeout(done, 5000));
  calls += 1;
  return {
    statusCode: 200,
    body: JSON.stringify({
      calls,
      name: context.functionName,
      color: process.env.COLOR ?? null,
      shell: process.env.ENTRA_TEST_SHELL_VARIABLE ?? null,
      table: process.env.TABLE ?? null,
      oid: event.requestContext.authorizer?.oid ?? null,
      id: event.pathParameters?.id ?? null,
    }),
  };
};`;

function lambda(asset: string, props: Record<string, unknown> = {}): CfnResource {
  return {
    Type: 'AWS::Lambda::Function',
    Metadata: { 'aws:asset:path': asset },
    Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 3, ...props },
  };
}

function method(resource: unknown, verb: string, props: Record<string, unknown>): CfnResource {
  return {
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      RestApiId: api,
      ResourceId: resource,
      HttpMethod: verb,
      AuthorizationType: 'NONE',
      ...props,
    },
  };
}

const proxy = (fn: string, extra: Record<string, unknown> = {}) => ({
  Integration: {
    Type: 'AWS_PROXY',
    IntegrationHttpMethod: 'POST',
    Uri: { 'Fn::GetAtt': [fn, 'Arn'] },
    ...extra,
  },
});
const guarded = { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: 'Auth' } };

/** A backend whose code is inline in the template (CDK's `Code.fromInline`), on GET /inline. */
const INLINE_BACKEND: Record<string, CfnResource> = {
  Inline: {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 3,
      Code: {
        ZipFile:
          "exports.handler = async () => ({ statusCode: 200, body: JSON.stringify({ calls: 1, message: 'inline code' }) });",
      },
    },
  },
  InlineResource: {
    Type: 'AWS::ApiGateway::Resource',
    Properties: { RestApiId: api, ParentId: ROOT, PathPart: 'inline' },
  },
  InlineGet: method({ Ref: 'InlineResource' }, 'GET', proxy('Inline')),
};

/** The API every test serves: guarded and open routes, failing backends, and what is not emulated. */
function apiResources(prefix = ''): Record<string, CfnResource> {
  return {
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: `${prefix}Api` } },
    AuthFn: lambda('asset.auth', { Environment: { Variables: { AZURE_TENANT_ID: TENANT } } }),
    Backend: lambda('asset.backend', {
      Environment: { Variables: { COLOR: 'blue', TABLE: { Ref: 'Table' } } },
    }),
    Other: lambda('asset.backend', { Environment: { Variables: { COLOR: 'green' } } }),
    Broken: lambda('asset.broken'),
    Slow: lambda('asset.backend', { Timeout: 60 }),
    Python: {
      Type: 'AWS::Lambda::Function',
      Properties: { Runtime: 'python3.12', Handler: 'app.handler', Timeout: 3 },
    },
    Auth: {
      Type: 'AWS::ApiGateway::Authorizer',
      Properties: {
        RestApiId: api,
        Type: 'TOKEN',
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: 0,
        AuthorizerUri: { 'Fn::GetAtt': ['AuthFn', 'Arn'] },
      },
    },
    Items: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: api, ParentId: ROOT, PathPart: 'items' },
    },
    Item: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: api, ParentId: { Ref: 'Items' }, PathPart: '{id}' },
    },
    ItemsGet: method({ Ref: 'Items' }, 'GET', { ...guarded, ...proxy('Backend') }),
    ItemGet: method({ Ref: 'Item' }, 'GET', proxy('Backend')),
    OtherGet: method(ROOT, 'GET', proxy('Other')),
    BrokenResource: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: api, ParentId: ROOT, PathPart: 'broken' },
    },
    BrokenGet: method({ Ref: 'BrokenResource' }, 'GET', proxy('Broken')),
    // Runs past a 1 s integration timeout; the function's own 60 s would let it go on.
    SlowPost: method(ROOT, 'POST', proxy('Slow', { TimeoutInMillis: 1000 })),
    PythonGet: method({ Ref: 'Items' }, 'PUT', { ...guarded, ...proxy('Python') }),
    HttpGet: method({ Ref: 'Items' }, 'POST', {
      Integration: { Type: 'HTTP_PROXY', IntegrationHttpMethod: 'GET', Uri: 'https://example.com/' },
    }),
    KeyGet: method({ Ref: 'Items' }, 'DELETE', { ...proxy('Backend'), ApiKeyRequired: true }),
    // The rest of what is not emulated, each on a resource of its own.
    RequestAuth: {
      Type: 'AWS::ApiGateway::Authorizer',
      Properties: {
        RestApiId: api,
        Type: 'REQUEST',
        IdentitySource: 'method.request.header.X-Key',
        AuthorizerUri: { 'Fn::GetAtt': ['Other', 'Arn'] },
      },
    },
    Pool: {
      Type: 'AWS::ApiGateway::Authorizer',
      Properties: { RestApiId: api, Type: 'COGNITO_USER_POOLS', ProviderARNs: ['arn:pool'] },
    },
    ...unsupportedMethod('request', { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: 'RequestAuth' } }),
    ...unsupportedMethod('cognito', {
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: 'Pool' },
    }),
    ...unsupportedMethod('iam', { AuthorizationType: 'AWS_IAM' }),
    ...unsupportedMethod('queue', {
      Integration: {
        Type: 'AWS',
        IntegrationHttpMethod: 'POST',
        Uri: 'arn:aws:apigateway:us-east-1:sqs:path/q',
      },
    }),
    ...unsupportedMethod('outside', {
      Integration: {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':', { 'Fn::ImportValue': 'Other:Arn' }]],
        },
      },
    }),
    ...unsupportedMethod('vpc', {
      Integration: {
        Type: 'HTTP_PROXY',
        ConnectionType: 'VPC_LINK',
        ConnectionId: 'link',
        IntegrationHttpMethod: 'GET',
        Uri: 'http://internal/',
      },
    }),
  };
}

/** GET /<part>, on a resource of its own, with `props` (an authorization or an integration) over a Lambda proxy. */
function unsupportedMethod(part: string, props: Record<string, unknown>): Record<string, CfnResource> {
  return {
    [`${part}Resource`]: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: api, ParentId: ROOT, PathPart: part },
    },
    [`${part}Get`]: method({ Ref: `${part}Resource` }, 'GET', { ...proxy('Backend'), ...props }),
  };
}

/** Writes a cloud assembly: manifest, templates, and the asset folders the functions name. */
function writeAssembly(name: string, stacks: Record<string, CfnTemplate>): string {
  const dir = join(work, name, 'cdk.out');
  mkdirSync(join(dir, 'asset.auth'), { recursive: true });
  mkdirSync(join(dir, 'asset.backend'), { recursive: true });
  writeFileSync(join(dir, 'asset.auth', 'index.js'), AUTHORIZER_CODE);
  writeFileSync(join(dir, 'asset.backend', 'index.js'), BACKEND_CODE);
  mkdirSync(join(dir, 'asset.broken'), { recursive: true });
  writeFileSync(join(dir, 'asset.broken', 'index.js'), "throw new Error('no TABLE_NAME');");
  const artifacts: Record<string, unknown> = {};
  for (const [stack, template] of Object.entries(stacks)) {
    writeFileSync(join(dir, `${stack}.template.json`), JSON.stringify(template));
    artifacts[stack] = {
      type: 'aws:cloudformation:stack',
      properties: { templateFile: `${stack}.template.json` },
    };
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '48.0.0', artifacts }));
  return dir;
}

describe('a served assembly', () => {
  let server: AssemblyServer;
  const call = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);
  /** What the backend or the gateway answered, as JSON. */
  const seen = async (res: Response | Promise<Response>) =>
    (await (await res).json()) as { calls: number; message: string };
  const good = { headers: { Authorization: 'Bearer good' } };

  beforeAll(async () => {
    process.env.ENTRA_TEST_SHELL_VARIABLE = 'from the shell';
    const dir = writeAssembly('one', { ItemsStack: { Resources: { ...apiResources(), ...INLINE_BACKEND } } });
    server = await serveWithBackendEnv(dir);
  }, 60_000);
  afterAll(async () => {
    delete process.env.ENTRA_TEST_SHELL_VARIABLE;
    await server?.stop();
  });

  it('names at start, one line per method, what it cannot emulate', () => {
    expect(server.notes).toEqual([
      'PUT /items: Python: Lambda runtime python3.12 is not emulated locally (only Node.js): answered 501',
      'POST /items: Integration.Type HTTP_PROXY is not emulated locally: answered 501',
      'DELETE /items: API keys and usage plans are not emulated locally: answered 501',
      'GET /request: the REQUEST authorizer RequestAuth is not emulated locally (only TOKEN): answered 501',
      'GET /cognito: AuthorizationType COGNITO_USER_POOLS is not emulated locally: answered 501',
      'GET /iam: AuthorizationType AWS_IAM is not emulated locally: answered 501',
      'GET /queue: Integration.Type AWS is not emulated locally: answered 501',
      'GET /outside: Integration.Uri names a Lambda function outside this stack, which is not emulated locally: answered 501',
      'GET /vpc: Integration.Type HTTP_PROXY through a VPC link is not emulated locally: answered 501',
      'Broken: init failed (Error: no TABLE_NAME); its calls answer 502',
    ]);
  });

  it('has no function reading a tenant list from a parameter, so start refuses --tenants-file', () => {
    expect(server.readsTenantsFile).toBe(false);
  });

  it('runs a function whose code is inline in the template, from the index.js Lambda would write it to', async () => {
    const res = await call('/inline');
    expect(res.status).toBe(200);
    expect(await seen(res)).toEqual({ calls: 1, message: 'inline code' });
  });

  it('answers a function whose init fails 502, as Lambda and API Gateway do', async () => {
    const res = await call('/broken');
    expect(res.status).toBe(502);
    expect(await seen(res)).toEqual({ message: 'Internal server error' });
  });

  it.each([
    ['PUT', 'Python: Lambda runtime python3.12'],
    ['POST', 'Integration.Type HTTP_PROXY'],
    ['DELETE', 'API keys and usage plans'],
    ['GET /request', 'the REQUEST authorizer RequestAuth'],
    ['GET /cognito', 'AuthorizationType COGNITO_USER_POOLS'],
    ['GET /iam', 'AuthorizationType AWS_IAM'],
    ['GET /queue', 'Integration.Type AWS '],
    ['GET /outside', 'Integration.Uri names a Lambda function outside this stack'],
    ['GET /vpc', 'Integration.Type HTTP_PROXY through a VPC link'],
  ])('answers %s (not emulated) 501, saying why', async (route, why) => {
    const [verb, path = '/items'] = route.split(' ');
    const res = await call(path, { method: verb, ...good });
    expect(res.status).toBe(501);
    expect((await seen(res)).message).toContain(`Not emulated locally: ${why}`);
  });

  it("runs each function from its asset folder with the template's environment, the --env values, and nothing of the shell's", async () => {
    const items = await seen(call('/items', good));
    expect(items).toMatchObject({
      name: 'Backend',
      color: 'blue',
      table: 'items-local',
      shell: null,
      oid: 'oid-1',
    });
    const other = await seen(call('/'));
    expect(other).toMatchObject({ name: 'Other', color: 'green', table: null, shell: null, oid: null });
    const item = await seen(call('/items/42'));
    expect(item).toMatchObject({ name: 'Backend', id: '42' });
    // Module state is each function's own: the same code counts apart in Backend and Other.
    expect(item.calls).toBe(items.calls + 1);
    expect((await seen(call('/'))).calls).toBe(other.calls + 1);
  });

  it("keeps the authorizer's contract: 401 for Unauthorized, 500 for its own failure", async () => {
    expect((await call('/items')).status).toBe(401);
    expect((await call('/items', { headers: { Authorization: 'Bearer bad' } })).status).toBe(401);
    const failed = await call('/items', { headers: { Authorization: 'Bearer boom' } });
    expect(failed.status).toBe(500);
  });

  it.each(['throw', 'malformed', 'spin'])(
    'answers a backend that fails (%s) 502 Internal server error, as API Gateway does',
    async (mode) => {
      const res = await call(`/items/1?mode=${mode}`);
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ message: 'Internal server error' });
    },
    20_000,
  );

  it('starts a fresh environment after a function timed out (its module state is gone)', async () => {
    await call('/items/1');
    expect((await call('/items/1?mode=spin')).status).toBe(502);
    expect((await seen(call('/items/1'))).calls).toBe(1);
  }, 20_000);

  it('answers a backend past the integration timeout 504 Endpoint request timed out', async () => {
    const res = await call('/?mode=wait', { method: 'POST' });
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ message: 'Endpoint request timed out' });
  }, 20_000);

  it('answers anything undeclared 403 Missing Authentication Token', async () => {
    const res = await call('/nothing');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});

describe('choosing what to serve', () => {
  it('says to run cdk synth when there is no assembly', () => {
    expect(() => readAssemblyStacks(join(work, 'none'))).toThrow(AssemblyError);
    expect(() => readAssemblyStacks(join(work, 'none'))).toThrow(/run `cdk synth`/);
  });

  it('lists the stacks and APIs and how to pick one when there are several', () => {
    const dir = writeAssembly('two', {
      A: { Resources: apiResources() },
      B: { Resources: apiResources('B') },
    });
    const stacks = readAssemblyStacks(dir);
    expect(() => pickGuardedApi(stacks, {})).toThrow(
      '2 REST APIs are guarded by an EntraTokenAuthorizer; pick one:\n  --stack A --api Api\n  --stack B --api Api',
    );
    expect(pickGuardedApi(stacks, { stack: 'B' }).stack.name).toBe('B');
    expect(() => pickGuardedApi(stacks, { stack: 'C' })).toThrow(
      'no stack C in the cloud assembly; it has A, B',
    );
  });

  it('says to synthesize again when a function’s code folder is gone', async () => {
    const dir = writeAssembly('gone', { S: { Resources: apiResources() } });
    rmSync(join(dir, 'asset.backend'), { recursive: true });
    await expect(
      startAssemblyServer({ assemblyDir: dir, port: 0, dataDir: join(work, 'key') }),
    ).rejects.toThrow(
      /the code of the Lambda function Backend is not in the cloud assembly .*: run `cdk synth` again/,
    );
  });

  it('tells a source file changed after the last synth, not a file of another synth (cdk synth -o)', () => {
    const dir = writeAssembly('stale', { S: { Resources: apiResources() } });
    expect(newerSourceThan(dir)).toBeUndefined();
    const later = new Date(Date.now() + 60_000);
    const other = join(work, 'stale', 'other.out');
    mkdirSync(other);
    for (const file of ['manifest.json', 'cdk.out', 'S.template.json']) {
      writeFileSync(join(other, file), '{}');
      utimesSync(join(other, file), later, later);
    }
    expect(newerSourceThan(dir)).toBeUndefined();
    const source = join(work, 'stale', 'app.js');
    writeFileSync(source, '');
    utimesSync(source, later, later);
    expect(newerSourceThan(dir)).toBe('app.js');
  });

  it("does not count the run's own inputs (--tenants-file, --env) as sources", () => {
    const dir = writeAssembly('inputs', { S: { Resources: apiResources() } });
    const later = new Date(Date.now() + 60_000);
    const inputs = ['tenants.json', 'env.json'].map((name) => join(work, 'inputs', name));
    for (const input of inputs) {
      writeFileSync(input, '[]');
      utimesSync(input, later, later);
    }
    expect(newerSourceThan(dir, inputs)).toBeUndefined();
    expect(newerSourceThan(dir)).toMatch(/^(tenants|env)\.json$/);
  });
});

describe("the local issuer's settings, from the authorizer's template", () => {
  const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
  it('issues for its tenant and client id, with every scope and role its configuration names', () => {
    expect(
      issuerSettingsOf({
        AZURE_TENANT_ID: TENANT,
        AZURE_AUDIENCES: `api://${CLIENT},${CLIENT}`,
        AZURE_REQUIRED_SCOPES: 'A.Read',
        AZURE_ROUTE_PERMISSIONS: JSON.stringify({
          'GET /x': { scopes: ['B.Read'] },
          'POST /x': { roles: ['R'] },
        }),
      }),
    ).toEqual({
      tenantId: TENANT,
      clientId: CLIENT,
      defaultScopes: ['A.Read', 'B.Read'],
      defaultRoles: ['R'],
      anyTenant: true,
    });
  });

  it('takes an allowed tenant of a multi-tenant authorizer, and an App ID URI as the audience', () => {
    const other = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    expect(
      issuerSettingsOf({
        AZURE_TENANT_ID: 'organizations',
        AZURE_ALLOWED_TENANTS: `*,${other}`,
        AZURE_AUDIENCES: 'api://orders',
      }),
    ).toMatchObject({ tenantId: other, audience: 'api://orders' });
  });

  it('takes the first tenant of the --tenants-file that stands in for a tenant parameter, else the local one', () => {
    const [first, second] = ['0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e'];
    const file = join(work, 'issuer-tenants.json');
    writeFileSync(file, JSON.stringify(['*', first, second]));
    const env = { AZURE_TENANT_ID: 'organizations', AZURE_TENANTS_REFRESH_SECONDS: '60' };
    expect(issuerSettingsOf(env, file).tenantId).toBe(first);
    writeFileSync(file, '[not json');
    expect(issuerSettingsOf(env, file).tenantId).toBe(LOCAL_TENANT_ID);
    expect(issuerSettingsOf(env).tenantId).toBe(LOCAL_TENANT_ID);
  });
});

describe('an authorizer whose allowed tenants are an SSM parameter, served with --tenants-file', () => {
  const LISTED = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  const file = join(work, 'tenants.json');
  let server: AssemblyServer;

  beforeAll(async () => {
    writeFileSync(file, JSON.stringify([LISTED]));
    const variables = {
      AZURE_TENANT_ID: 'organizations',
      AZURE_AUDIENCES: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
      AZURE_TENANTS_REFRESH_SECONDS: '300',
      AZURE_ALLOWED_TENANTS_PARAMETER: { Ref: 'AllowedTenantsParameter' },
    };
    const { Api, Auth, Items, Backend } = apiResources();
    const dir = writeAssembly('ssm', {
      SsmStack: {
        Resources: {
          ...({ Api, Auth, Items, Backend } as Record<string, CfnResource>),
          AuthFn: lambda('asset.auth', { Environment: { Variables: variables } }),
          ItemsGet: method({ Ref: 'Items' }, 'GET', { ...guarded, ...proxy('Backend') }),
        },
      },
    });
    process.env.AZURE_ALLOWED_TENANTS_FILE = file;
    server = await serveWithBackendEnv(dir);
  }, 60_000);
  afterAll(async () => {
    delete process.env.AZURE_ALLOWED_TENANTS_FILE;
    await server?.stop();
  });

  it('says the file stands in for the parameter, not that the parameter is left unset', () => {
    expect(server.readsTenantsFile).toBe(true);
    expect(server.notes).toEqual([
      `AuthFn: allowed tenants read from ${file} (--tenants-file), not from the SSM parameter`,
    ]);
  });

  it("mints for a tenant the file lists, so the banner's token is one the authorizer allows", () => {
    expect(server.issuerUrl).toContain(`/${LISTED}/`);
  });
});
