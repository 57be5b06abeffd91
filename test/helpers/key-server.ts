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
  | 'drip'
  | 'huge'
  | 'huge-declared';

/** A key endpoint on 127.0.0.1 whose behaviour a test switches, counting every request. */
export class KeyServer {
  mode: KeyServerMode = 'ok';
  requests = 0;
  jwks: { keys: unknown[] } = { keys: [] };
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      this.requests++;
      switch (this.mode) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.jwks));
          return;
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
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/tenant/discovery/v2.0/keys`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
