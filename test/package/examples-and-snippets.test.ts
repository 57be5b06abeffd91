import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, run, userEnv } from './consumer-app.js';

/**
 * The manual's TypeScript snippets (README.md and docs/*.md) and the example app (examples/) in an app laid out as `cdk init app
 * --language typescript` makes one: its tsconfig (taken from the installed CDK CLI's own template, strict
 * and noImplicitReturns), CommonJS, with aws-cdk-lib, constructs, the type packages and this package in its
 * node_modules (linked to this repository's, the package to its built self).
 */

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

/** The manual's pages: README.md, then every page of docs/. */
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** A page's ```ts blocks, in order. */
function pageSnippets(readme: string): string[] {
  // A block inside a list item is indented: its lines lose that indentation.
  return [...readme.matchAll(/^( *)```(?:ts|typescript)\n([\s\S]*?)^ *```$/gm)].map(([, indent, body]) =>
    (body as string)
      .split('\n')
      .map((line) => (line.startsWith(indent as string) ? line.slice((indent as string).length) : line))
      .join('\n'),
  );
}

/**
 * A snippet as a module: one that exports is a module already (a backend); the others are the body of a
 * stack's constructor (`this` is the stack), their imports and `declare`s lifted to the top.
 */
function snippetModule(snippet: string): string {
  if (/^export /m.test(snippet)) return snippet;
  const statements = snippet.split(/\n(?=\S)/);
  const top = statements.filter((s) => /^(import|declare) /.test(s));
  const body = statements.filter((s) => !/^(import|declare) /.test(s));
  return [
    "import { Stack as SnippetStack } from 'aws-cdk-lib';",
    "import type { Construct as SnippetScope } from 'constructs';",
    ...top,
    'export class Snippet extends SnippetStack {',
    '  constructor(scope: SnippetScope, id: string) {',
    '    super(scope, id);',
    ...body,
    '  }',
    '}',
  ].join('\n');
}

let work: string;
let snippets: { page: string; snippet: string; file: string }[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'entra-examples-'));
  mkdirSync(join(work, 'node_modules', '@types'), { recursive: true });
  for (const name of ['aws-cdk-lib', 'constructs', '@types/node', '@types/aws-lambda']) {
    symlinkSync(join(ROOT, 'node_modules', name), join(work, 'node_modules', name), 'dir');
  }
  symlinkSync(ROOT, join(work, 'node_modules', 'entra-authorizer'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'user-app', private: true }));
  // NodejsFunction looks for a lock file even when bundling is skipped.
  writeFileSync(join(work, 'package-lock.json'), JSON.stringify({ name: 'user-app', lockfileVersion: 3 }));
  cpSync(join(ROOT, 'examples'), join(work, 'examples'), { recursive: true });
  snippets = PAGES.flatMap((page) =>
    pageSnippets(readFileSync(join(ROOT, page), 'utf8')).map((snippet) => ({ page, snippet })),
  ).map(({ page, snippet }, i) => ({
    page,
    snippet,
    file: `${page.replace(/\.md$/, '').replace(/\W/g, '-').toLowerCase()}-${i + 1}`,
  }));
  mkdirSync(join(work, 'snippets'));
  for (const { snippet, file } of snippets) {
    writeFileSync(join(work, 'snippets', `${file}.ts`), snippetModule(snippet));
  }
  const init = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/aws-cdk/lib/init-templates/app/typescript/tsconfig.json'), 'utf8'),
  ) as { compilerOptions: Record<string, unknown> };
  // The template names jest's types, which its own package.json installs; nothing here needs them.
  const compilerOptions = { ...init.compilerOptions, types: ['node'] };
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: ['examples', 'snippets'] }),
  );
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("the manual's snippets and the example app, in a cdk init app", () => {
  it('has TypeScript snippets to check, in the README and in docs/', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6);
    expect(snippets.some(({ page }) => page === 'README.md')).toBe(true);
    expect(new Set(snippets.map(({ page }) => page)).size).toBeGreaterThanOrEqual(5);
  });

  it("compile under cdk init's tsconfig (strict, noImplicitReturns)", async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: work }).catch(
      (err: Error) => err.message,
    );
    expect(typeof result === 'string' ? result : '').toBe('');
  }, 180_000);

  it('the stack snippets that declare nothing synthesize: their route rules match their methods', async () => {
    // A snippet with `declare` stands for part of an app; the others are whole stacks, synthesized as written
    // (NodejsFunction entries as empty handlers, bundling skipped), so the construct's synth checks run on them.
    const whole = snippets.filter(({ snippet }) => !/^(declare|export) /m.test(snippet));
    expect(whole.map(({ page }) => page)).toContain('README.md');
    for (const { snippet } of whole) {
      for (const [, entry] of snippet.matchAll(/entry: '([^']+)'/g)) {
        mkdirSync(join(work, entry as string, '..'), { recursive: true });
        writeFileSync(join(work, entry as string), 'export const handler = async () => ({});\n');
      }
    }
    const main = [
      "import { App } from 'aws-cdk-lib';",
      ...whole.map(({ file }, i) => `import { Snippet as S${i} } from './snippets/${file}.ts';`),
      'const app = new App();',
      ...whole.map(({ file }, i) => `new S${i}(app, '${file}');`),
      'app.synth();',
    ].join('\n');
    writeFileSync(join(work, 'synth-snippets.ts'), main);
    const out = join(work, 'cdk.out.snippets');
    await run(process.execPath, ['--import', import.meta.resolve('tsx'), 'synth-snippets.ts'], {
      cwd: work,
      env: {
        ...userEnv(),
        CDK_OUTDIR: out,
        CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
      },
    });
    for (const { file } of whole) {
      const template = Template.fromJSON(
        JSON.parse(readFileSync(join(out, `${file}.template.json`), 'utf8')),
      );
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Entra ID access token authorizer'),
      });
      // API Gateway answers a MOCK integration 500 unless its request template picks a status code that an
      // integration response maps: a snippet's allowed caller would meet our own-failure status.
      for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
        const integration = method.Properties?.Integration;
        if (integration?.Type !== 'MOCK') continue;
        expect(JSON.stringify(integration.RequestTemplates ?? {}), file).toMatch(/statusCode/);
        expect(integration.IntegrationResponses ?? [], file).not.toHaveLength(0);
      }
    }
  }, 180_000);

  it("the README's stack snippet has the example's backends: its entries are examples/items-api/lambda/'s files", () => {
    // The README has a cdk init app copy examples/items-api/lambda/ beside cdk.json to synthesize the snippet.
    const entries = snippets
      .filter(({ page }) => page === 'README.md')
      .flatMap(({ snippet }) =>
        [...snippet.matchAll(/entry: '([^']+)'/g)].map(([, entry]) => entry as string),
      );
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry).toMatch(/^lambda\//);
      expect(existsSync(join(ROOT, 'examples', 'items-api', entry)), entry).toBe(true);
    }
  });

  it('the example app synthesizes: two guarded methods with their rules, gateway responses, alarms', async () => {
    const tsx = import.meta.resolve('tsx');
    const out = join(work, 'cdk.out');
    await run(process.execPath, ['--import', tsx, join('examples', 'items-api', 'app.ts')], {
      cwd: work,
      env: {
        ...userEnv(),
        CDK_OUTDIR: out,
        CDK_CONTEXT_JSON: JSON.stringify({
          tenantId: TENANT,
          clientId: CLIENT,
          'aws:cdk:bundling-stacks': [],
        }),
      },
    });
    const template = Template.fromJSON(
      JSON.parse(readFileSync(join(out, 'ItemsStack.template.json'), 'utf8')),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Entra ID access token authorizer',
      Environment: {
        Variables: {
          AZURE_TENANT_ID: TENANT,
          AZURE_ROUTE_PERMISSIONS: JSON.stringify({
            'GET /items': { scopes: ['Items.Read'] },
            'DELETE /items/{id}': { roles: ['Items.Admin'] },
          }),
        },
      },
    });
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 2);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 6);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  }, 180_000);
});
