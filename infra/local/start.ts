import { describeRule, SAMPLE_ROUTES } from '../routes.js';
import { localPort, startLocalServer } from './server.js';

// npm start: the sample API and a local Entra-shaped issuer on 127.0.0.1, no AWS account, no tenant.
const server = await startLocalServer({ port: localPort() });
const lines = [
  `entra-authorizer local API on ${server.url}`,
  '',
  `  issuer (Entra-shaped)  ${server.issuerUrl}/.well-known/openid-configuration`,
  `  token endpoint         ${server.tokenEndpoint}`,
  ...SAMPLE_ROUTES.map(
    (r) => `  ${r.method.padEnd(6)} ${server.url}${r.path}   (needs ${describeRule(r.permission)})`,
  ),
  '',
  'Try it:',
  `  curl -i -H "Authorization: Bearer $(npm run -s token | tail -n 1)" ${server.url}/whoami`,
  `  curl -i ${server.url}/whoami                                     # 401`,
  `  curl -i -H "Authorization: Bearer $(npm run -s token -- --app --roles Items.Read | tail -n 1)" ${server.url}/whoami   # 403`,
  '',
  'Ctrl-C stops it.',
];
console.log(lines.join('\n'));

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
