import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every use of a module counts: shipped code, tests, the bench, tools, the examples and the docs' snippets. */
const USER_DIRS = ['lambda', 'infra', 'scripts', 'test', 'examples'] as const;
const USER_FILES = ['vitest.config.ts'] as const;
const DOC_DIRS = ['.', 'docs'] as const;

/** The package's public entry points (package.json "exports"), as tsconfig's paths name them. */
const PACKAGE_NAMES: Readonly<Record<string, string>> = {
  'entra-authorizer': 'infra/index.ts',
  'entra-authorizer/identity': 'lambda/shared/index.ts',
};

/** Exports whose user is outside the code: the Lambda runtime calls the handler its function names. */
const RUNTIME_ENTRIES: Readonly<Record<string, readonly string[]>> = {
  'lambda/authorizer/handler.ts': ['handler'],
  'lambda/whoami/handler.ts': ['handler'],
};

const ALL = '*';

interface Module {
  readonly exports: string[];
  /** What this file takes from others: file → names (ALL for a namespace import or `export *`). */
  readonly uses: Map<string, Set<string>>;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.m?ts$/.test(file) && !file.endsWith('.d.ts') && !file.includes('node_modules'))
    .map((file) => join(dir, file));
}

/** The TypeScript fences of the README and docs/*.md, each parsed as a file beside its page. */
function docSnippets(): { file: string; text: string }[] {
  return DOC_DIRS.flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((file) => file.endsWith('.md'))
      .flatMap((file) =>
        [...readFileSync(join(ROOT, dir, file), 'utf8').matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map(
          (m, i) => ({ file: `${join(dir, file)}#${i}`, text: m[1] as string }),
        ),
      ),
  );
}

function resolveSpecifier(from: string, specifier: string): string | undefined {
  const named = PACKAGE_NAMES[specifier];
  if (named) return named;
  if (!specifier.startsWith('.')) return undefined;
  const base = relative(ROOT, resolve(ROOT, dirname(from), specifier));
  const candidates = [base.replace(/\.m?js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(join(ROOT, c)));
}

function hasExportKeyword(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/** The names a file exports: declarations marked `export`, `export { ... }` lists and re-exports. */
function exportsOf(source: ts.SourceFile): string[] {
  return source.statements.flatMap((statement): string[] => {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      return clause && ts.isNamedExports(clause) ? clause.elements.map((e) => e.name.text) : [];
    }
    if (ts.isExportAssignment(statement)) return ['default'];
    if (!hasExportKeyword(statement)) return [];
    if (ts.isVariableStatement(statement))
      return statement.declarationList.declarations.flatMap((d) => bindingNames(d.name));
    const name = (statement as ts.DeclarationStatement).name;
    return name && ts.isIdentifier(name) ? [name.text] : [];
  });
}

/** What an `import()` or `require()` takes: `const { a } = await import(...)`, `(await import(...)).a`, else all. */
function dynamicNames(call: ts.CallExpression): string[] {
  let node: ts.Node = call;
  while (ts.isAwaitExpression(node.parent) || ts.isParenthesizedExpression(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name))
    return parent.name.elements.map((e) => ((e.propertyName ?? e.name) as ts.Identifier).text);
  if (ts.isPropertyAccessExpression(parent) && node !== call) return [parent.name.text];
  return [ALL];
}

function usesOf(file: string, source: ts.SourceFile): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>();
  const use = (specifier: ts.Expression | undefined, names: readonly string[]) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const target = resolveSpecifier(file, specifier.text);
    if (!target) return;
    const set = uses.get(target) ?? new Set<string>();
    for (const name of names) set.add(name);
    uses.set(target, set);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      use(node.moduleSpecifier, [
        ...(clause?.name ? ['default'] : []),
        ...(bindings && ts.isNamespaceImport(bindings) ? [ALL] : []),
        ...(bindings && ts.isNamedImports(bindings)
          ? bindings.elements.map((e) => (e.propertyName ?? e.name).text)
          : []),
      ]);
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause;
      use(
        node.moduleSpecifier,
        clause && ts.isNamedExports(clause)
          ? clause.elements.map((e) => (e.propertyName ?? e.name).text)
          : [ALL],
      );
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      use(node.arguments[0], dynamicNames(node));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const qualifier = node.qualifier;
      const first = qualifier && (ts.isIdentifier(qualifier) ? qualifier : leftmost(qualifier));
      use(node.argument.literal as ts.Expression, [first ? first.text : ALL]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

function leftmost(name: ts.QualifiedName): ts.Identifier {
  return ts.isIdentifier(name.left) ? name.left : leftmost(name.left);
}

function parse(file: string, text: string): Module {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  return { exports: exportsOf(source), uses: usesOf(file, source) };
}

/** Each export of `checked` that no other file of `modules` (nor the Lambda runtime) takes, as "file: name". */
function unusedExports(modules: ReadonlyMap<string, Module>, checked: readonly string[]): string[] {
  return checked.flatMap((file) => {
    const taken = new Set<string>(RUNTIME_ENTRIES[file] ?? []);
    for (const [user, module] of modules) {
      if (user === file) continue;
      for (const name of module.uses.get(file) ?? []) taken.add(name);
    }
    // The package's entry points export its public API: whoever installs it is their user.
    if (taken.has(ALL) || Object.values(PACKAGE_NAMES).includes(file)) return [];
    return (modules.get(file)?.exports ?? [])
      .filter((name) => !taken.has(name))
      .map((name) => `${file}: ${name}`);
  });
}

describe('exports', () => {
  // An export only its own file uses widens what a reader must hold and what a change may break: export less.
  it('of lambda/ and infra/ are each used by another file: code, test, bench, tool, example or doc snippet', () => {
    const files = [...USER_DIRS.flatMap(sourceFiles), ...USER_FILES];
    const modules = new Map([
      ...files.map((f) => [f, parse(f, readFileSync(join(ROOT, f), 'utf8'))] as const),
      ...docSnippets().map((s) => [s.file, parse(s.file, s.text)] as const),
    ]);
    const shipped = files.filter((f) => f.startsWith('lambda/') || f.startsWith('infra/'));
    expect(shipped.length).toBeGreaterThan(80);
    expect(unusedExports(modules, shipped)).toEqual([]);
  });

  it('are found unused when no other file takes them (the scanner itself)', () => {
    const user = parse(
      'lambda/authorizer/example.ts',
      [
        // Double quotes: test-lanes.test.ts follows the single-quoted imports of a test file.
        'import { a, b as c } from "./errors.js";',
        'import type * as all from "./config.js";',
        'export { d } from "./policy.js";',
        'const { e } = await import("./reasons.js");',
        'const { f } = require("./clouds.js");',
        'type F = import("./decision.js").Decision;',
        'export const g = 1, { h } = { h: 2 };',
        'export interface I {}',
        'const j = 3;',
        'export { j as k };',
      ].join('\n'),
    );
    expect(user.exports).toEqual(['d', 'g', 'h', 'I', 'k']);
    expect(Object.fromEntries([...user.uses].map(([file, names]) => [file, [...names]]))).toEqual({
      'lambda/authorizer/errors.ts': ['a', 'b'],
      'lambda/authorizer/config.ts': [ALL],
      'lambda/authorizer/policy.ts': ['d'],
      'lambda/authorizer/reasons.ts': ['e'],
      'lambda/authorizer/clouds.ts': ['f'],
      'lambda/authorizer/decision.ts': ['Decision'],
    });
    const errors = parse('lambda/authorizer/errors.ts', 'export class a {}\nexport const b = 1, z = a;');
    const handler = parse('lambda/authorizer/handler.ts', 'export const handler = 1, ready = 2;');
    const modules = new Map([
      ['lambda/authorizer/example.ts', user],
      ['lambda/authorizer/errors.ts', errors],
      ['lambda/authorizer/handler.ts', handler],
    ]);
    expect(unusedExports(modules, [...modules.keys()])).toEqual([
      'lambda/authorizer/example.ts: d',
      'lambda/authorizer/example.ts: g',
      'lambda/authorizer/example.ts: h',
      'lambda/authorizer/example.ts: I',
      'lambda/authorizer/example.ts: k',
      'lambda/authorizer/errors.ts: z',
      'lambda/authorizer/handler.ts: ready',
    ]);
  });
});
