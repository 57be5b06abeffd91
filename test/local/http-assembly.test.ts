import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AssemblyServer, startAssemblyServer } from '../../infra/local/assembly-server.js';
import { LOCAL_CLIENT_ID } from '../../infra/local/issuer.js';
import { SAMPLE_SCOPE } from '../../infra/sample/routes.js';
import { SAMPLE_HTTP_STACK_NAME, SampleHttpApiStack } from '../../infra/sample/sample-http-api-stack.js';
import { testApp } from '../helpers/cdk.js';
import { entra, ROUTES } from '../helpers/http-sample.js';
import { localToken } from '../helpers/local-token.js';
import { tempDir } from '../helpers/temp-dir.js';

// In the process lane: the synth bundles the Lambdas with esbuild, a process of its own.
describe('entra-authorizer start on a cloud assembly with an HTTP API', () => {
  let served: AssemblyServer;
  let assemblyDir: string;
  beforeAll(async () => {
    // cdk synth as a user runs it: the Lambdas bundled into the assembly's asset folders.
    assemblyDir = mkdtempSync(join(tmpdir(), 'entra-http-assembly-'));
    const app = testApp({ bundle: true, outdir: assemblyDir });
    new SampleHttpApiStack(app, SAMPLE_HTTP_STACK_NAME, { entra, routes: ROUTES });
    app.synth();
    served = await startAssemblyServer({
      assemblyDir,
      port: 0,
      dataDir: tempDir('entra-http-assembly-key-'),
    });
  }, 180_000);
  afterAll(async () => {
    await served?.stop();
    rmSync(assemblyDir, { recursive: true, force: true });
  });

  it('finds the HTTP API its EntraHttpAuthorizer guards, and answers as the template says', async () => {
    expect('kind' in served.api).toBe(true);
    expect(served.notes).toEqual([]);
    const scoped = await localToken(served.tokenEndpoint, { scope: `api://${LOCAL_CLIENT_ID}/Items.Admin` });
    const get = (method: string, path: string, bearer?: string) =>
      fetch(`${served.url}${path}`, {
        method,
        headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      });
    expect((await get('DELETE', '/items/5', scoped)).status).toBe(200);
    expect((await get('GET', '/whoami', scoped)).status).toBe(403);
    expect((await get('GET', '/whoami')).status).toBe(401);
    expect((await get('GET', '/elsewhere', scoped)).status).toBe(404);
  });

  it("serves the stack's WebSocket API beside it, its functions on worker threads: 401, 403 or the connection", async () => {
    expect(served.webSocketApis.map((api) => api.stageName)).toEqual(['prod']);
    const connect = (query: string) =>
      new Promise<number>((done) => {
        const socket = new WebSocket(`${served.url.replace('http', 'ws')}/prod${query}`);
        socket.once('open', () => {
          socket.close();
          done(101);
        });
        socket.once('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
        socket.once('error', () => done(0));
      });
    const user = await localToken(served.tokenEndpoint, {
      scope: `api://${LOCAL_CLIENT_ID}/${SAMPLE_SCOPE}`,
    });
    const other = await localToken(served.tokenEndpoint, { scope: `api://${LOCAL_CLIENT_ID}/Items.Admin` });
    expect(await connect('')).toBe(401);
    expect(await connect(`?access_token=${other}`)).toBe(403);
    expect(await connect(`?access_token=${user}`)).toBe(101);
  });
});
