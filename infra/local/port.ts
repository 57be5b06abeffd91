import { createServer } from 'node:net';

/**
 * The one PORT rule of the local commands: `npm start` listens on it, `npm run token` asks the issuer there,
 * and `npm run explain` looks there for the key set of a local token.
 */
export const DEFAULT_PORT = 3000;

/** A PORT value no command can use; the message is one line for a person. */
export class PortError extends Error {
  override readonly name = 'PortError';
}

/** PORT from the environment: unset or empty is 3000, 0 lets `npm start` pick a free port. */
export function localPort(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.PORT?.trim();
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  // Number() would also take 3e3, 0x10 or 1.0: a port is written in digits.
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new PortError(
      `PORT must be a port number from 1 to 65535 (or 0 for any free port); got ${JSON.stringify(env.PORT)}`,
    );
  }
  return Number(raw);
}

/** `PORT=4000 ` before a command that must find the server on 4000; nothing for the default port. */
export function portPrefix(port: number): string {
  return port === DEFAULT_PORT ? '' : `PORT=${port} `;
}

/** A port near `port` that nothing listens on right now (for a suggestion, not a reservation). */
export async function freePortNear(port: number, host = '127.0.0.1'): Promise<number | undefined> {
  for (let candidate = port + 1; candidate <= Math.min(port + 20, 65535); candidate++) {
    const free = await new Promise<boolean>((done) => {
      const probe = createServer();
      probe.once('error', () => done(false));
      probe.listen(candidate, host, () => probe.close(() => done(true)));
    });
    if (free) return candidate;
  }
  return undefined;
}
