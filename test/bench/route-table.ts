/**
 * The route table a cold start builds: how long planning the cached-policy Denies takes for generated worst
 * cases, every one of them a table the construct accepts (at most 4096 bytes of Lambda variables). Target:
 * any table the construct and the cold start accept builds in at most 300 ms here; a table past
 * MAX_PLAN_STEPS is refused, not built. `npx tsx test/bench/route-table.ts` prints the rows alone.
 */
import { fileURLToPath } from 'node:url';
import { ENV_NAMES, loadConfig, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { BENCH_CLIENT, BENCH_TENANT } from './shared.js';

const MAX_VARIABLE_BYTES = 4096;
const TARGET_MS = 300;
const RUNS = 5;

type Table = Record<string, unknown>;
const params = (n: number) => Array.from({ length: n }, () => '{p}');

/** Keys added while the table, with its rules, still fits Lambda's variables. */
function fill(keys: Iterable<string>, rule: (i: number) => unknown, unlisted: string[] = []): Table {
  const table: Table = {};
  let i = 0;
  for (const key of keys) {
    const next = { ...table, [key]: rule(i) };
    const bytes = JSON.stringify({ t: JSON.stringify(next), u: JSON.stringify(unlisted) }).length;
    if (bytes > MAX_VARIABLE_BYTES - 200) break;
    table[key] = rule(i++);
  }
  return table;
}

function* longParamKeys(segments: number) {
  for (let i = 0; ; i++) {
    yield `GET /${params(segments)
      .map((s, j) => (j === i % segments ? `x${i}` : s))
      .join('/')}`;
  }
}

/** The generated worst cases: many {param} segments, many routes, literal siblings, {proxy+}, ANY. */
export const WORST_CASES: Record<string, () => { table: Table; unlisted?: string[] }> = {
  'two GET keys of 150 {p} segments': () => ({
    table: {
      [`GET /${params(150).join('/')}`]: { roles: ['A'] },
      [`GET /${params(149).join('/')}/x`]: { roles: ['B'] },
    },
  }),
  'keys of 140 segments, each fixing one': () => ({
    table: fill(longParamKeys(140), (i) => ({ roles: [`R${i}`] })),
  }),
  'keys of 150 one-letter literal segments': () => ({
    table: fill(
      (function* () {
        for (let i = 0; ; i++)
          yield `GET /${Array.from({ length: 150 }, (_, j) => (j === i ? 'b' : 'a')).join('/')}`;
      })(),
      () => ({}),
    ),
  }),
  'keys of 40 segments, each fixing one': () => ({
    table: fill(longParamKeys(40), (i) => ({ roles: [`R${i}`] })),
  }),
  'many short ANY keys with {id}': () => ({
    table: fill(
      (function* () {
        for (let i = 0; ; i++) yield `* /a${i}/{id}`;
      })(),
      (i) => (i % 2 === 0 ? {} : { roles: ['R'] }),
    ),
  }),
  'literal siblings under {param} and {proxy+}': () => ({
    table: fill(
      (function* () {
        yield '* /{proxy+}';
        yield 'GET /items/{id}';
        for (let i = 0; ; i++) {
          yield `GET /items/s${i}`;
          yield `GET /items/{id}/p${i}/{q}`;
        }
      })(),
      (i) => ({ roles: [`R${i % 7}`] }),
    ),
  }),
  'deep {proxy+} routes with literals between parameters': () => ({
    table: fill(
      (function* () {
        for (let i = 0; ; i++) yield `* /${params(12).join('/')}/l${i}/${params(12).join('/')}/{proxy+}`;
      })(),
      (i) => ({ scopes: [`S${i % 3}`] }),
    ),
  }),
  'unlisted methods of a construct-made table': () => {
    const unlisted = Array.from({ length: 60 }, (_, i) => `POST /u${i}/{id}/{proxy+}`);
    return {
      table: fill(
        (function* () {
          for (let i = 0; ; i++) yield `GET /${params(20).join('/')}/k${i}`;
        })(),
        () => ({}),
        unlisted,
      ),
      unlisted,
    };
  },
};

export interface RouteTableRow {
  readonly name: string;
  readonly keys: number;
  readonly bytes: number;
  /** Median of RUNS builds, or undefined when the cold start refuses the table. */
  readonly buildMs: number | undefined;
  readonly refused?: string;
}

export function benchRouteTables(): { rows: RouteTableRow[]; allWithinTarget: boolean } {
  const rows: RouteTableRow[] = [];
  for (const [name, make] of Object.entries(WORST_CASES)) {
    const { table, unlisted } = make();
    const env = {
      [ENV_NAMES.tenantId]: BENCH_TENANT,
      [ENV_NAMES.audiences]: BENCH_CLIENT,
      [ENV_NAMES.routePermissions]: JSON.stringify(table),
      ...(unlisted === undefined ? {} : { [UNLISTED_METHODS_ENV]: JSON.stringify(unlisted) }),
    };
    const bytes = JSON.stringify(env).length;
    const times: number[] = [];
    let refused: string | undefined;
    for (let run = 0; run < RUNS && refused === undefined; run++) {
      const started = performance.now();
      try {
        createRouteAuthorizer(loadConfig(env));
        times.push(performance.now() - started);
      } catch (err) {
        refused = (err as Error).message.slice(0, 160);
      }
    }
    times.sort((a, b) => a - b);
    const buildMs =
      times.length === 0 ? undefined : Math.round((times[times.length >> 1] as number) * 10) / 10;
    rows.push({ name, keys: Object.keys(table).length, bytes, buildMs, ...(refused ? { refused } : {}) });
  }
  return { rows, allWithinTarget: rows.every((r) => r.buildMs === undefined || r.buildMs <= TARGET_MS) };
}

export function routeTableMarkdown(rows: readonly RouteTableRow[]): string {
  return [
    '| route table (at most 4096 bytes of variables) | keys | bytes | cold-start build (median ms) |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (r) => `| ${r.name} | ${r.keys} | ${r.bytes} | ${r.buildMs ?? `refused: ${r.refused ?? ''}`} |`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows, allWithinTarget } = benchRouteTables();
  console.log(routeTableMarkdown(rows));
  console.log(`every accepted table within ${TARGET_MS} ms: ${allWithinTarget}`);
}
