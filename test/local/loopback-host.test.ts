import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID, LOCAL_USER_GRANT } from '../../infra/local/issuer.js';
import { isLoopbackHostHeader } from '../../infra/local/loopback-host.js';
import { type LocalServer, startLocalServer } from '../../infra/local/server.js';

/**
 * DNS rebinding: a page of `http://rebind.example:3000` whose DNS answer turns into 127.0.0.1 is, to the
 * browser, the same origin as the local server on port 3000; without a look at `Host` it could mint tokens at
 * the local issuer and read the API's answers (the user's own backends, run with the user's credentials).
 * Its requests name its own host, which no loopback name is.
 */

const octet = fc.integer({ min: 0, max: 255 }).map(String);
const port = fc.option(
  fc.integer({ min: 0, max: 65535 }).map((p) => `:${p}`),
  { nil: '' },
);
/** Loopback names (RFC 6761 6.3 `localhost`; RFC 1122 3.2.1.3 127/8; RFC 4291 2.5.3 `::1`), any case. */
const loopbackName = fc.oneof(
  fc.constantFrom('localhost', 'LOCALHOST', 'LocalHost', '[::1]'),
  fc.tuple(octet, octet, octet).map((rest) => `127.${rest.join('.')}`),
);
/** Names a DNS answer (or a literal) may point anywhere: another host, or a loopback name with more to it. */
const foreignName = fc.oneof(
  fc.domain().filter((d) => d.toLowerCase() !== 'localhost'),
  fc.tuple(octet, octet, octet, octet).map(([a, ...rest]) => `${a === '127' ? '10' : a}.${rest.join('.')}`),
  loopbackName.chain((name) =>
    fc
      .constantFrom(`${name}.rebind.example`, `rebind.example.${name}`, `${name}@rebind.example`, `x${name}`)
      .filter((n) => !n.startsWith('[')),
  ),
  fc.constantFrom('[::2]', '[::ffff:7f00:1]', '::1', '[::1', ''),
);

describe('the local server answers requests addressed to a loopback name only', () => {
  it('reads the Host header as RFC 9110 writes it: uri-host, then an optional ":" port', () => {
    // Oracle: RFC 9110 7.2 (Host = uri-host [ ":" port ]), RFC 6761 6.3, RFC 1122 3.2.1.3, RFC 4291 2.5.3:
    // the loopback names are localhost, 127.0.0.0/8 and [::1]; anything else may resolve anywhere.
    fc.assert(
      fc.property(loopbackName, port, (name, p) => isLoopbackHostHeader(`${name}${p}`)),
      { numRuns: 300 },
    );
    // Oracle: as above; a name that is not exactly a loopback name, or a port that is not digits, is foreign.
    fc.assert(
      fc.property(foreignName, port, (name, p) => !isLoopbackHostHeader(`${name}${p}`)),
      { numRuns: 500 },
    );
    expect(isLoopbackHostHeader(undefined)).toBe(false);
    expect(isLoopbackHostHeader('127.0.0.1:3000@rebind.example')).toBe(false);
    expect(isLoopbackHostHeader('localhost:80:80')).toBe(false);
  });

  describe('npm start, as a rebound page reaches it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'entra-local-host-'));
    let local: LocalServer;
    beforeAll(async () => {
      local = await startLocalServer({ port: 0, apiKind: 'http', dataDir });
    }, 120_000);
    afterAll(async () => {
      await local?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** A request to the server with the Host header a browser would send for `host`. */
    const send = (host: string, method: string, path: string, body = '', headers = {}) =>
      new Promise<{ status: number; body: string }>((done, fail) => {
        const req = request(
          `${local.url}${path}`,
          { method, headers: { ...headers, host, 'content-type': 'application/x-www-form-urlencoded' } },
          (res) => {
            let text = '';
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          done({ status: res.statusCode ?? 0, body: '' });
        });
        req.on('error', fail);
        req.end(body);
      });
    const tokenPath = () => new URL(local.tokenEndpoint).pathname;
    const form = new URLSearchParams({
      grant_type: LOCAL_USER_GRANT,
      scope: `api://${LOCAL_CLIENT_ID}/access_as_user`,
    }).toString();

    it('refuses the issuer, the API and a WebSocket upgrade addressed to another host: 403, no token', async () => {
      const rebound = `rebind.example:${local.port}`;
      const minted = await send(rebound, 'POST', tokenPath(), form);
      expect(minted.status).toBe(403);
      expect(minted.body).not.toContain('access_token');
      const token = JSON.parse((await send(`127.0.0.1:${local.port}`, 'POST', tokenPath(), form)).body)
        .access_token as string;
      expect((await send(rebound, 'GET', '/whoami', '', { authorization: `Bearer ${token}` })).status).toBe(
        403,
      );
      const stage = local.webSocketApis[0]?.stageName;
      expect(stage).toBeDefined();
      const upgrade = {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      };
      expect((await send(rebound, 'GET', `/${stage}?access_token=${token}`, '', upgrade)).status).toBe(403);
      // Addressed as the README addresses it, the same requests are answered.
      for (const host of [`127.0.0.1:${local.port}`, `localhost:${local.port}`]) {
        expect((await send(host, 'GET', '/whoami', '', { authorization: `Bearer ${token}` })).status).toBe(
          200,
        );
        expect((await send(host, 'GET', `/${stage}?access_token=${token}`, '', upgrade)).status).toBe(101);
      }
    });
  });
});
