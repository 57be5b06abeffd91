import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export type KeyServerMode =
  | 'ok'
  | 'status-503'
  | 'status-404'
  | 'redirect'
  | 'html'
  | 'truncated'
  | 'hang'
  | 'slow'
  | 'drip'
  | 'huge'
  | 'huge-declared';

/** A key endpoint on 127.0.0.1 whose behaviour a test switches, counting every request. */
export class KeyServer {
  mode: KeyServerMode = 'ok';
  requests = 0;
  jwks: { keys: unknown[] } = { keys: [] };
  /**
   * Entra's per-tenant key sets, at `/{tenant}/discovery/...`: with any set here, a tenant GUID without one is
   * answered 400 as Entra answers an unknown tenant (`AADSTS90002`), and `tenantModes` may set a tenant's mode.
   */
  readonly tenantSets = new Map<string, { keys: unknown[] }>();
  /** A mode for the paths of one tenant (or `organizations`), overriding `mode`. */
  readonly tenantModes = new Map<string, KeyServerMode>();
  /** Every requested path, in order. */
  readonly paths: string[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      this.requests++;
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      this.paths.push(path);
      const tenant = path.split('/')[1] ?? '';
      switch (this.tenantModes.get(tenant) ?? this.mode) {
        case 'ok': {
          const set = this.tenantSets.get(tenant);
          if (set === undefined && this.tenantSets.size > 0 && /^[0-9a-f-]{36}$/.test(tenant)) {
            res.writeHead(400, { 'content-type': 'application/json' }).end(
              JSON.stringify({
                error: 'invalid_tenant',
                error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
              }),
            );
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(set ?? this.jwks));
          return;
        }
        case 'status-503':
          res.writeHead(503).end('busy');
          return;
        case 'status-404':
          res.writeHead(404).end('not found');
          return;
        case 'redirect':
          res.writeHead(302, { location: `${this.url}?again` }).end();
          return;
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>');
          return;
        case 'truncated':
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify(this.jwks).slice(0, 100));
          return;
        case 'hang':
          req.socket.setTimeout(0);
          return; // never answers
        case 'slow': {
          // The key set, 3 s late: past the Lambda's 2 s fetch budget.
          const timer = setTimeout(() => {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.jwks));
          }, 3000);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case 'drip': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const timer = setInterval(() => res.write(' '), 200);
          res.on('close', () => clearInterval(timer));
          return;
        }
        case 'huge': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(1024 * 1024, 0x20);
          let sent = 0;
          const pump = () => {
            while (sent < 40 && res.write(chunk)) sent++;
            if (sent >= 40) res.end();
            else res.once('drain', pump);
          };
          res.on('close', () => {
            sent = 40;
          });
          pump();
          return;
        }
        case 'huge-declared':
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': String(40 * 1024 * 1024),
          });
          res.write('{"keys":[');
          return;
      }
    });
  }

  static async start(): Promise<KeyServer> {
    const server = new KeyServer();
    await server.listen();
    return server;
  }

  /** A key server for the enclosing suite: listening before its tests, stopped after, publishing `jwks()`. */
  static forSuite(jwks?: () => { keys: unknown[] }): KeyServer {
    const server = new KeyServer();
    beforeAll(async () => {
      await server.listen();
      if (jwks !== undefined) server.jwks = jwks();
    });
    afterAll(() => server.stop());
    return server;
  }

  listen(): Promise<void> {
    return new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return this.urlOf('tenant');
  }

  /** The key URL of `tenant` (or `organizations`, `common`) in Entra's v2 shape, or its v1 shape. */
  urlOf(tenant: string, version: '1.0' | '2.0' = '2.0'): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/${tenant}/discovery/${version === '2.0' ? 'v2.0/' : ''}keys`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
