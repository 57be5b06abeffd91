import { vi } from 'vitest';

/**
 * The authorizer's real composition root, loaded fresh as a cold start would (its `ready` awaited), with
 * the environment stubbed and stdout and stderr captured: `out` and `err` apart, `lines` both in order.
 */
export async function coldStartHandler(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const out: string[] = [];
  const err: string[] = [];
  const lines: string[] = [];
  const capture = (stream: NodeJS.WriteStream, into: string[]) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      into.push(String(chunk));
      lines.push(String(chunk));
      return true;
    });
  const spies = [capture(process.stdout, out), capture(process.stderr, err)];
  const restore = () => {
    for (const spy of spies) spy.mockRestore();
  };
  try {
    const module = await import('../../lambda/authorizer/handler.js');
    await module.ready;
    return { handler: module.handler, out, err, lines, restore };
  } catch (e) {
    restore();
    throw e;
  }
}
