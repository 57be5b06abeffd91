import type { ParameterValue } from './tenant-list.js';

/**
 * Local runs only (`npm start --tenants-file`, `npx entra-authorizer start`): a file holding the parameter's
 * value, read in its place, so that no local run reaches AWS. The constructs never set it.
 */
export const TENANTS_FILE_ENV = 'AZURE_ALLOWED_TENANTS_FILE';

/** A local file standing in for the parameter; its modification time is its version. */
export function fileParameterReader(path: string): () => Promise<ParameterValue> {
  return async () => {
    // Loaded here, not at module load: `node:fs/promises` is not part of Node's startup snapshot, and its
    // first require costs a deployed cold start milliseconds of CPU for a reader only local runs use.
    const { readFile, stat } = await import('node:fs/promises');
    const [value, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { value, type: 'String', version: `file ${new Date(info.mtimeMs).toISOString()}` };
  };
}
