import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ENV, loadConfig } from '../lambda/authorizer/config.js';
import { type ExplainReport, explainToken } from '../lambda/authorizer/explain.js';
import { EntraJwksCache } from '../lambda/authorizer/keys/key-cache.js';

const usage = `npm run explain -- [options] <token>      (or the token on stdin)

Explains what the authorizer would decide about an access token, check by check, with a hint. It reads the
same AZURE_* variables as the Lambda; flags override them. Without a tenant or audience it assumes the
token's own (and says so). The token is only decoded and checked here, never sent anywhere: only the key
set is fetched, to verify the signature.
  --tenant <guid|organizations|common>   AZURE_TENANT_ID
  --allowed-tenants <a,b|*>              AZURE_ALLOWED_TENANTS
  --audience <a,b>                       AZURE_AUDIENCES
  --scopes <a,b>   --roles <x,y>         AZURE_REQUIRED_SCOPES / AZURE_REQUIRED_ROLES
  --routes <json>                        AZURE_ROUTE_PERMISSIONS
  --jwks-uri <url>  --authority-host <h> AZURE_JWKS_URI / AZURE_AUTHORITY_HOST
  --route "GET /items"                   the route to judge (default GET /)
  --at <ISO time or epoch seconds>       judge as if it were then (default now)
  --json                                 the report as JSON`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    'allowed-tenants': { type: 'string' },
    audience: { type: 'string' },
    scopes: { type: 'string' },
    roles: { type: 'string' },
    routes: { type: 'string' },
    'jwks-uri': { type: 'string' },
    'authority-host': { type: 'string' },
    route: { type: 'string' },
    at: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const token = (positionals[0] ?? (process.stdin.isTTY ? '' : readFileSync(0, 'utf8'))).trim();
if (token === '') {
  console.error(usage);
  process.exit(2);
}

const peek = (() => {
  try {
    const part = token.replace(/^bearer /i, '').split('.')[1] ?? '';
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
})();
const assumed: string[] = [];
const env: Record<string, string | undefined> = {
  ...process.env,
  ...(values.tenant !== undefined ? { [ENV.tenantId]: values.tenant } : {}),
  ...(values['allowed-tenants'] !== undefined ? { [ENV.allowedTenants]: values['allowed-tenants'] } : {}),
  ...(values.audience !== undefined ? { [ENV.audiences]: values.audience } : {}),
  ...(values.scopes !== undefined ? { [ENV.requiredScopes]: values.scopes } : {}),
  ...(values.roles !== undefined ? { [ENV.requiredRoles]: values.roles } : {}),
  ...(values.routes !== undefined ? { [ENV.routePermissions]: values.routes } : {}),
  ...(values['jwks-uri'] !== undefined ? { [ENV.jwksUri]: values['jwks-uri'] } : {}),
  ...(values['authority-host'] !== undefined ? { [ENV.authorityHost]: values['authority-host'] } : {}),
};
if (!env[ENV.tenantId] && typeof peek.tid === 'string') {
  env[ENV.tenantId] = peek.tid;
  assumed.push(`${ENV.tenantId}=${peek.tid} (the token's own tenant)`);
}
if (!env[ENV.audiences] && typeof peek.aud === 'string') {
  env[ENV.audiences] = peek.aud;
  assumed.push(`${ENV.audiences}=${peek.aud} (the token's own audience)`);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(env);
} catch (err) {
  console.error(`configuration: ${(err as Error).message}`);
  process.exit(2);
}

let nowSeconds: number | undefined;
if (values.at !== undefined) {
  const at = /^\d+(\.\d+)?$/.test(values.at) ? Number(values.at) : Date.parse(values.at) / 1000;
  if (!Number.isFinite(at)) {
    console.error(`--at: expected an ISO time or epoch seconds; got "${values.at}"`);
    process.exit(2);
  }
  nowSeconds = at;
  // aws-jwt-verify reads the clock itself: judge everything as of --at.
  const offset = at * 1000 - Date.now();
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + offset;
}

const [method, path] = (values.route ?? 'GET /').split(' ');
const report = await explainToken(token, {
  config,
  keys: new EntraJwksCache(),
  route: { method: (method ?? 'GET').toUpperCase(), path: path ?? '/' },
  ...(nowSeconds !== undefined ? { now: () => Date.now() / 1000 } : {}),
});

if (values.json) {
  console.log(JSON.stringify({ assumed, ...report }, null, 2));
} else {
  console.log(render(report, assumed));
}
process.exit(report.decision.status === 200 ? 0 : 1);

function render(r: ExplainReport, notes: string[]): string {
  const lines: string[] = [];
  const mark = { pass: '✓', fail: '✗', skipped: '-' } as const;
  for (const note of notes) lines.push(`note: assuming ${note}`);
  if (r.header !== undefined) {
    lines.push('', 'Header', `  ${JSON.stringify(r.header)}`, '', 'Claims');
    const width = Math.max(...Object.keys(r.payload ?? {}).map((k) => k.length));
    for (const [k, v] of Object.entries(r.payload ?? {})) {
      const time = r.times.find((t) => t.claim === k);
      const shown = time !== undefined ? `${v}  ${time.iso} (${time.relative})` : JSON.stringify(v);
      lines.push(`  ${k.padEnd(width)}  ${shown.length > 150 ? `${shown.slice(0, 150)}...` : shown}`);
    }
  }
  lines.push('', 'Checks');
  for (const c of r.checks) lines.push(`  ${mark[c.outcome]} ${c.check}${c.detail ? `: ${c.detail}` : ''}`);
  lines.push('', 'Signature', `  ${r.signature.status}: ${r.signature.detail}`);
  const answer = {
    200: 'Allow (200)',
    401: 'Unauthorized (401)',
    403: 'Deny (403)',
    500: 'authorizer failure (500)',
  }[r.decision.status];
  lines.push(
    '',
    'Decision',
    `  ${answer}, reason ${r.decision.reason}: ${r.decision.detail}`,
    '',
    'Hint',
    `  ${r.hint}`,
  );
  return lines.join('\n');
}
