import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The manual's relative links (README.md and docs/*.md) lead somewhere: the file exists, and a `#fragment`
 * names a heading of the page it points at, slugged as GitHub slugs headings (lower case, punctuation
 * dropped, each space a hyphen, a repeated slug numbered).
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = join(ROOT, 'docs');
const pages = [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(DOCS, f)),
];

/** The page's text outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/^ *```[\s\S]*?^ *```$/gm, '');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(readFileSync(file, 'utf8')).matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const slug = (heading as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

const links = pages.flatMap((page) =>
  [...prose(readFileSync(page, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target as string)
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target))
    .map((target) => ({ page, target })),
);

describe("the manual's relative links", () => {
  it('are many (README and every docs page link on)', () => {
    expect(links.length).toBeGreaterThan(40);
  });

  it('each name a file that exists and, with a #fragment, a heading of that page', () => {
    const broken: string[] = [];
    for (const { page, target } of links) {
      const [path, fragment] = target.split('#') as [string, string | undefined];
      const file = path === '' ? page : join(dirname(page), decodeURI(path));
      const where = `${relative(ROOT, page)}: ${target}`;
      if (!existsSync(file)) broken.push(`${where} (no such file)`);
      else if (fragment !== undefined) {
        if (statSync(file).isDirectory() || !file.endsWith('.md'))
          broken.push(`${where} (a fragment of a non-page)`);
        else if (!anchorsOf(file).has(fragment)) broken.push(`${where} (no heading #${fragment})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('lead from the README to every docs page', () => {
    const fromReadme = new Set(
      links
        .filter(({ page }) => page.endsWith('README.md') && dirname(page) === ROOT.replace(/\/$/, ''))
        .map(({ target }) => target.split('#')[0]),
    );
    for (const page of pages.filter((p) => p.startsWith(DOCS))) {
      expect(fromReadme, relative(ROOT, page)).toContain(relative(ROOT, page));
    }
  });
});
