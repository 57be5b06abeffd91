import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './consumer-app.js';

describe('the license', () => {
  // npm pack ships LICENSE whatever package.json's files say; package.test.ts checks the tarball's list.
  it('is the MIT license package.json names, with its permission notice', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(pkg.license).toBe('MIT');
    expect(text.split('\n')[0]).toBe('MIT License');
    expect(text.replace(/\s+/g, ' ')).toContain(
      'Permission is hereby granted, free of charge, to any person obtaining a copy of this software',
    );
  });
});
