#!/usr/bin/env node
/**
 * The package's command line, `npx entra-authorizer <start|token|explain>`, and what this repository's
 * `npm start`, `npm run token` and `npm run explain` run: each command is its own module, loaded once the
 * command word is taken off the arguments it parses.
 */
const COMMANDS = {
  start: () => import('./start.js'),
  token: () => import('./token-cli.js'),
  explain: () => import('./explain-cli.js'),
} as const;

const usage = `usage: npx entra-authorizer <command> [options]     (--help after a command for its options)

  start     serve the REST or HTTP API of your synthesized CDK app (cdk.out) on 127.0.0.1, with a local Entra-shaped issuer
  token     mint an access token from that issuer, for the tenant and audience your authorizer declares
  explain   say what your authorizer decides about a token, check by check`;

const command = process.argv[2];
if (command === undefined || command === '--help' || command === '-h') {
  console.log(usage);
  process.exit(command === undefined ? 2 : 0);
}
if (!Object.hasOwn(COMMANDS, command)) {
  console.error(`entra-authorizer: unknown command ${JSON.stringify(command)}\n\n${usage}`);
  process.exit(2);
}
process.argv.splice(2, 1);
await COMMANDS[command as keyof typeof COMMANDS]();
