import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeyFetchError } from '../../lambda/authorizer/errors.js';
import { KeyFetcher } from '../../lambda/authorizer/keys/fetcher.js';

/**
 * The fetch rules of docs/token-rules.md ("Signing keys"), each at its edge: bodies capped at 256 KiB
 * (declared or streamed), redirects not followed, only a 200 is a key set, one retry for a failure that
 * may pass (a 5xx, a dropped connection), all within one budget. The oracle is that table, not the
 * fetcher's constants.
 */
const CAP = 256 * 1024;

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;
let handler: Handler = (_req, res) => res.end();
let requests: string[] = [];
const server = createServer((req, res) => {
  requests.push(req.url ?? '');
  handler(req, res, requests.length);
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  requests = [];
});

const body = (bytes: number) => Buffer.alloc(bytes, 0x20);
const fetchKeys = (fetcher = new KeyFetcher()) => fetcher.fetch(`${base}/keys`);
/** The refusal a fetch ends in, or a failure of the test if it resolved. */
async function refusal(fetcher?: KeyFetcher): Promise<KeyFetchError> {
  const err = await fetchKeys(fetcher).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyFetchError);
  return err as KeyFetchError;
}

describe('the key fetcher caps bodies at 256 KiB', () => {
  it.each([
    ['declared', true],
    ['streamed', false],
  ])('accepts a %s body of exactly 256 KiB, byte for byte', async (_, declared) => {
    handler = (_req, res) => {
      res.writeHead(200, declared ? { 'content-length': String(CAP) } : {});
      // Several writes, so a streamed body arrives in more than one chunk.
      for (let i = 0; i < 4; i++) res.write(body(CAP / 4));
      res.end();
    };
    const got = await fetchKeys();
    expect(got.byteLength).toBe(CAP);
  });

  it.each([
    ['declared', true],
    ['streamed', false],
  ])('refuses a %s body of 256 KiB and one byte, without a retry', async (_, declared) => {
    handler = (_req, res) => {
      res.writeHead(200, declared ? { 'content-length': String(CAP + 1) } : {});
      for (let i = 0; i < 4; i++) res.write(body(CAP / 4));
      res.end(body(1));
    };
    await refusal();
    expect(requests).toHaveLength(1);
  });

  it('refuses a declared oversized body at once, before it arrives', async () => {
    // The body never comes: only the declared length can refuse it before the budget runs out.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': String(CAP + 1) });
      res.write('{"keys":[');
    };
    const err = await refusal(new KeyFetcher({ budgetMs: 60_000 }));
    expect(err.message).toMatch(/exceeds/);
    expect(err.retryable).toBe(false);
  });

  it('returns the body it received, not a view of a larger buffer', async () => {
    const jwks = JSON.stringify({ keys: [{ kty: 'RSA', kid: 'k', n: 'AQAB', e: 'AQAB' }] });
    handler = (_req, res) => res.writeHead(200).end(jwks);
    expect(Buffer.from(await fetchKeys()).toString('utf8')).toBe(jwks);
  });
});

describe('the key fetcher accepts only a 200', () => {
  it.each([201, 203, 204, 206, 299])('refuses status %i', async (status) => {
    handler = (_req, res) => res.writeHead(status).end(status === 204 ? undefined : '{"keys":[]}');
    const err = await refusal();
    expect(err.status).toBe(status);
  });

  it.each([300, 301, 302, 303, 307, 308, 399])(
    'does not follow a %i redirect and does not retry it',
    async (status) => {
      handler = (req, res) => {
        if (req.url === '/keys') res.writeHead(status, { location: `${base}/elsewhere` }).end();
        else res.writeHead(200).end('{"keys":[]}');
      };
      const err = await refusal();
      expect(err.status).toBe(status);
      expect(requests).toEqual(['/keys']);
    },
  );

  it.each([400, 401, 403, 404, 429, 499])('refuses a %i without a retry', async (status) => {
    handler = (_req, res) => res.writeHead(status).end('no');
    await refusal();
    expect(requests).toHaveLength(1);
  });

  it.each([500, 502, 503, 504, 599])(
    'retries a %i once, and takes the retry when it succeeds',
    async (status) => {
      handler = (_req, res, attempt) => {
        if (attempt === 1) res.writeHead(status).end('busy');
        else res.writeHead(200).end('{"keys":[]}');
      };
      expect(Buffer.from(await fetchKeys()).toString('utf8')).toBe('{"keys":[]}');
      expect(requests).toHaveLength(2);
    },
  );

  it('gives up after one retry', async () => {
    handler = (_req, res) => res.writeHead(500).end('busy');
    await refusal();
    expect(requests).toHaveLength(2);
  });
});

describe('the key fetcher on a failing connection', () => {
  it('retries a connection dropped before the answer', async () => {
    handler = (req, res, attempt) => {
      if (attempt === 1) req.socket.destroy();
      else res.writeHead(200).end('{"keys":[]}');
    };
    expect(Buffer.from(await fetchKeys()).toString('utf8')).toBe('{"keys":[]}');
    expect(requests).toHaveLength(2);
  });

  it('refuses a body cut off mid-way, and retries it', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(body(10), () => req.socket.destroy());
    };
    await refusal();
    expect(requests).toHaveLength(2);
  });

  it('refuses an endpoint that never answers within its budget, with no retry once the budget is spent', async () => {
    handler = () => {};
    const err = await refusal(new KeyFetcher({ budgetMs: 300 }));
    expect(err.retryable).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('does not start a retry with less than its minimum left', async () => {
    handler = (_req, res) => setTimeout(() => res.writeHead(503).end('busy'), 150);
    await refusal(new KeyFetcher({ budgetMs: 400, minRetryMs: 300 }));
    expect(requests).toHaveLength(1);
  });
});

describe('the key fetcher over HTTPS', () => {
  it('connects to an https key URL on any host (here loopback), where it then needs a trusted certificate', async () => {
    // A TCP listener that is no TLS server: the fetch must reach it (HTTPS is what the fetcher is for) and
    // then fail, as no certificate is offered.
    let connections = 0;
    const tcp = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tcp.address() as AddressInfo;
      const err = await new KeyFetcher({ budgetMs: 1000 }).fetch(`https://127.0.0.1:${port}/keys`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KeyFetchError);
      expect((err as KeyFetchError).message).toMatch(/request failed/);
      expect(connections).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});
