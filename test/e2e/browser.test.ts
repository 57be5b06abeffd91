import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID, LOCAL_USER_GRANT } from '../../infra/local/issuer.js';
import { type LocalServer, startLocalServer } from '../../infra/local/server.js';
import { localToken } from '../helpers/local-token.js';

// Debian's chromium, driven by playwright-core: no browser is downloaded. CI installs it (.ci/run).
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}

interface Answer {
  readonly status: number;
  readonly wwwAuthenticate: string | null;
  readonly body: unknown;
}

describe.skipIf(!hasChromium)('a page on another origin calling npm start’s API from a real browser', () => {
  let api: LocalServer;
  let page: Server;
  let pageOrigin: string;
  let browser: BrowserContext;
  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    api = await startLocalServer({ port: 0, dataDir: tempDir('entra-local-') });
    // The page's own origin: another port on 127.0.0.1 is another origin to the browser.
    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>client</title><p>client');
    });
    await new Promise<void>((done) => page.listen(0, '127.0.0.1', done));
    pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    browser = await chromium.launchPersistentContext(tempDir('chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((done) => (page ? page.close(() => done()) : done()));
    await api?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const token = (params: Record<string, string> = {}) => localToken(api.tokenEndpoint, params);

  /** `fetch` from a script of the page, as a single-page app would call the API. */
  async function fetchFromPage(url: string, authorization?: string): Promise<Answer> {
    const tab = await browser.newPage();
    try {
      await tab.goto(`${pageOrigin}/`);
      return await tab.evaluate(
        async ({ url, authorization }) => {
          const res = await fetch(url, {
            headers: authorization === undefined ? {} : { Authorization: authorization },
          });
          const text = await res.text();
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          return { status: res.status, wwwAuthenticate: res.headers.get('WWW-Authenticate'), body };
        },
        { url, authorization },
      );
    } finally {
      await tab.close();
    }
  }

  it('reads the 200 body', async () => {
    expect(new URL(api.url).origin).not.toBe(pageOrigin);
    const answer = await fetchFromPage(`${api.url}/whoami`, `Bearer ${await token()}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      scopes: ['access_as_user'],
      preferredUsername: 'alice@contoso.example',
    });
  });

  it('reads the 401 status and the WWW-Authenticate challenge', async () => {
    const answer = await fetchFromPage(`${api.url}/whoami`);
    expect(answer).toEqual({
      status: 401,
      wwwAuthenticate: 'Bearer realm="EntraAuthorizerSample"',
      body: { message: 'Unauthorized' },
    });
  });

  it('reads the 403 status and the insufficient_scope challenge', async () => {
    const app = await token({
      grant_type: 'client_credentials',
      scope: `api://${LOCAL_CLIENT_ID}/.default`,
      roles: 'Items.Admin',
    });
    const answer = await fetchFromPage(`${api.url}/whoami`, `Bearer ${app}`);
    expect(answer.status).toBe(403);
    expect(answer.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope", scope="access_as_user"$/);
  });

  it('reads the 403 of a route the API does not have', async () => {
    expect(await fetchFromPage(`${api.url}/nope`)).toMatchObject({
      status: 403,
      body: { message: 'Missing Authentication Token' },
    });
  });

  it('gives a page whose host name resolves to 127.0.0.1 (DNS rebinding) no token and no answer', async () => {
    // The page's script runs at http://rebind.test:<port>, which the browser resolves to the local server, as
    // a rebound DNS answer would: to the browser it is the server's own origin, so CORS does not apply.
    const rebinding = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
    });
    try {
      const tab = await rebinding.newPage();
      await tab.goto(`http://rebind.test:${api.port}/`);
      const answers = await tab.evaluate(
        async ({ tokenPath, form }) => {
          const minted = await fetch(tokenPath, { method: 'POST', body: new URLSearchParams(form) });
          const whoami = await fetch('/whoami');
          return [
            { status: minted.status, body: await minted.text() },
            { status: whoami.status, body: await whoami.text() },
          ];
        },
        {
          tokenPath: new URL(api.tokenEndpoint).pathname,
          form: { grant_type: LOCAL_USER_GRANT, scope: `api://${LOCAL_CLIENT_ID}/access_as_user` },
        },
      );
      for (const answer of answers) {
        expect(answer.status).toBe(403);
        expect(answer.body).not.toMatch(/access_token|Unauthorized/);
      }
    } finally {
      await rebinding.close();
    }
  });

  it('is refused by the browser when the stack allows another origin', async () => {
    const strict = await startLocalServer({
      port: 0,
      dataDir: tempDir('entra-local-'),
      allowOrigin: 'https://app.example.com',
    });
    try {
      // The browser itself blocks the answers: CORS headers are what make them readable above.
      await expect(fetchFromPage(`${strict.url}/whoami`)).rejects.toThrow(/Failed to fetch/);
    } finally {
      await strict.stop();
    }
  });
});
