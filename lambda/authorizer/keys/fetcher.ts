import type { IncomingMessage } from 'node:http';
import type { Fetcher } from 'aws-jwt-verify/https';
import { isLoopbackHost } from '../config.js';
import { KeyFetchError } from '../errors.js';

// node:crypto loaded before node:https: on Node 22, https loaded first costs about 2 ms more CPU at cold
// start (test/bench/cold-parts.ts, "https before crypto"), and the verifier needs crypto anyway. A call,
// since a bundler drops an import whose bindings go unused.
process.getBuiltinModule('node:crypto');
const httpsRequest = process.getBuiltinModule('node:https').request;

interface KeyFetcherOptions {
  /** The whole budget of one fetch: connect, response and the retry. @default 2000 */
  readonly budgetMs?: number;
  /** Bodies above this are cut off and refused. @default 262144 (256 KiB) */
  readonly maxBodyBytes?: number;
  /** A retry starts only if at least this much of the budget is left. @default 500 */
  readonly minRetryMs?: number;
}

const KEY_FETCH_DEFAULTS = { budgetMs: 2000, maxBodyBytes: 256 * 1024, minRetryMs: 500 } as const;

/**
 * aws-jwt-verify's Fetcher, hardened for a key endpoint: one deadline for everything, a size cap, no
 * redirects, HTTPS only (plain HTTP for loopback), and one retry for failures that may be passing.
 */
export class KeyFetcher implements Fetcher {
  private readonly budgetMs: number;
  private readonly maxBodyBytes: number;
  private readonly minRetryMs: number;

  constructor(options: KeyFetcherOptions = {}) {
    this.budgetMs = options.budgetMs ?? KEY_FETCH_DEFAULTS.budgetMs;
    this.maxBodyBytes = options.maxBodyBytes ?? KEY_FETCH_DEFAULTS.maxBodyBytes;
    this.minRetryMs = options.minRetryMs ?? KEY_FETCH_DEFAULTS.minRetryMs;
  }

  async fetch(uri: string): Promise<ArrayBuffer> {
    const url = new URL(uri);
    if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) {
      throw new KeyFetchError(uri, 'only https (or http on loopback) is fetched', false);
    }
    const deadline = Date.now() + this.budgetMs;
    try {
      return await this.fetchOnce(url, deadline - Date.now());
    } catch (err) {
      const left = deadline - Date.now();
      if (!(err instanceof KeyFetchError) || !err.retryable || left < this.minRetryMs) throw err;
      return this.fetchOnce(url, left);
    }
  }

  private fetchOnce(url: URL, timeoutMs: number): Promise<ArrayBuffer> {
    const uri = url.href;
    // Plain HTTP is for loopback only (local runs, tests): node:http is loaded there, at its first use, rather
    // than at every cold start (about 0.25 ms of the module load).
    const request = url.protocol === 'https:' ? httpsRequest : process.getBuiltinModule('node:http').request;
    return new Promise<ArrayBuffer>((resolve, reject) => {
      let settled = false;
      const finish = (err: KeyFetchError | undefined, body?: ArrayBuffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(body as ArrayBuffer);
      };
      const timer = setTimeout(
        () => finish(new KeyFetchError(uri, `no complete answer within ${timeoutMs} ms`, true)),
        timeoutMs,
      );
      timer.unref();
      const req = request(
        url,
        { method: 'GET', headers: { accept: 'application/json' } },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            res.resume();
            const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
            finish(
              new KeyFetchError(uri, `status ${status}, expected 200${redirect}`, status >= 500, status),
            );
            return;
          }
          const declared = Number(res.headers['content-length']);
          if (declared > this.maxBodyBytes) {
            finish(
              new KeyFetchError(uri, `body of ${declared} bytes exceeds ${this.maxBodyBytes}`, false, status),
            );
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxBodyBytes) {
              finish(new KeyFetchError(uri, `body exceeds ${this.maxBodyBytes} bytes`, false, status));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            finish(
              undefined,
              buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
            );
          });
          res.on('error', (err) =>
            finish(new KeyFetchError(uri, `response failed: ${err.message}`, true, status)),
          );
          res.on('aborted', () => finish(new KeyFetchError(uri, 'response aborted', true, status)));
        },
      );
      req.on('error', (err) => finish(new KeyFetchError(uri, `request failed: ${err.message}`, true)));
      req.end();
    });
  }
}
