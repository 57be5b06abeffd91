import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** How the fake answers GetParameter: as SSM would, or with one of the failures SSM documents. */
export type SsmMode = 'ok' | 'throttled' | 'access-denied' | 'slow';

interface StoredParameter {
  value: string;
  type: 'String' | 'StringList' | 'SecureString';
  version: number;
}

/** A parameter store on 127.0.0.1 speaking SSM's JSON 1.1 protocol for GetParameter, counting every call. */
export class SsmServer {
  mode: SsmMode = 'ok';
  /** Answer this many more calls `ThrottlingException` before answering as `mode` says. */
  throttleNext = 0;
  /** How long `slow` waits before it answers. */
  slowMs = 5000;
  readonly calls: { target: string; name: unknown }[] = [];
  readonly parameters = new Map<string, StoredParameter>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      void body(req).then((text) => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const input = JSON.parse(text || '{}') as { Name?: unknown };
        this.calls.push({ target, name: input.Name });
        const answer = (status: number, payload: unknown) => {
          if (res.destroyed) return;
          res
            .writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
            .end(JSON.stringify(payload));
        };
        const error = (type: string, message: string) => answer(400, { __type: type, message });
        if (target !== 'AmazonSSM.GetParameter') return error('InvalidAction', `${target} is not served`);
        if (this.throttleNext > 0) {
          this.throttleNext--;
          return error('ThrottlingException', 'Rate exceeded');
        }
        if (this.mode === 'throttled') return error('ThrottlingException', 'Rate exceeded');
        if (this.mode === 'access-denied') {
          return error(
            'AccessDeniedException',
            'User: arn:aws:sts::123456789012:assumed-role/authorizer is not authorized to perform: ssm:GetParameter',
          );
        }
        const name = typeof input.Name === 'string' ? input.Name : '';
        const stored = this.parameters.get(name);
        if (stored === undefined) return error('ParameterNotFound', '');
        const found = {
          Parameter: {
            Name: name,
            Type: stored.type,
            Value: stored.value,
            Version: stored.version,
            ARN: `arn:aws:ssm:eu-west-1:123456789012:parameter/${name.replace(/^\//, '')}`,
            DataType: 'text',
            LastModifiedDate: 1_700_000_000,
          },
        };
        if (this.mode === 'slow') setTimeout(() => answer(200, found), this.slowMs).unref();
        else answer(200, found);
      });
    });
  }

  /** Stores a new version of the parameter, as PutParameter with Overwrite would. */
  put(name: string, value: string, type: StoredParameter['type'] = 'String'): void {
    const version = (this.parameters.get(name)?.version ?? 0) + 1;
    this.parameters.set(name, { value, type, version });
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /**
   * The environment an SDK client needs to reach this server and nothing else: its endpoint, a region and
   * credentials that exist nowhere (taken before any profile or instance metadata).
   */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_SSM: this.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTESTONLY',
      AWS_SECRET_ACCESS_KEY: 'local-test-only',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A server for the whole test file: listening before the first test, closed after the last. */
  static forSuite(): SsmServer {
    const server = new SsmServer();
    beforeAll(() => server.listen());
    afterAll(() => server.close());
    return server;
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
