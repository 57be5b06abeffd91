import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * How long each function is, in source lines, read with the TypeScript compiler: the house keeps functions
 * short enough to hold in one's head (about 80 lines). `npx tsx scripts/function-lengths.ts [--over N] [dir...]`
 * prints the functions of the given folders (default lambda and infra), longest first.
 */

export interface FunctionLength {
  /** Repository-relative path with forward slashes. */
  readonly file: string;
  /** `createLocalGateway`, `createLocalGateway/handle`, `createRouteAuthorizer/<arrow>`: enclosing names joined. */
  readonly name: string;
  readonly line: number;
  /** From the line of its first token to the line of its last, both counted. */
  readonly lines: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The name a function goes by: its own, the variable or property it is assigned to, else `<arrow>`/`<function>`. */
function nameOf(node: ts.SignatureDeclaration): string {
  if (node.name !== undefined && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
    return node.name.text;
  }
  const parent = node.parent;
  if (
    (ts.isVariableDeclaration(parent) ||
      ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent)) &&
    ts.isIdentifier(parent.name)
  ) {
    return parent.name.text;
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return ts.isArrowFunction(node) ? '<arrow>' : '<function>';
}

/** Every function-like node of one source text, nested ones included (each counted on its own, whole). */
export function functionLengths(file: string, text: string): FunctionLength[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: FunctionLength[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node, outer: readonly string[]) => {
    let names = outer;
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      names = [...outer, nameOf(node)];
      const line = lineOf(node.getStart(source));
      out.push({ file, name: names.join('/'), line, lines: lineOf(node.getEnd()) - line + 1 });
    }
    ts.forEachChild(node, (child) => visit(child, names));
  };
  visit(source, []);
  return out;
}

/** The functions of every .ts file under the given repository folders. */
export function measureFolders(folders: readonly string[], root: string = ROOT): FunctionLength[] {
  const files = folders.flatMap((folder) =>
    (readdirSync(join(root, folder), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => join(root, folder, f)),
  );
  return files.flatMap((path) =>
    functionLengths(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8')),
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const overAt = args.indexOf('--over');
  const over = overAt === -1 ? 0 : Number(args[overAt + 1]);
  const folders = overAt === -1 ? args : args.filter((_, i) => i !== overAt && i !== overAt + 1);
  const found = measureFolders(folders.length > 0 ? folders : ['lambda', 'infra'])
    .filter((f) => f.lines > over)
    .sort((a, b) => b.lines - a.lines);
  process.stdout.write(
    found.map((f) => `${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}\n`).join(''),
  );
}
