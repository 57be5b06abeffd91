import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTenantList, TenantListError } from '../../lambda/authorizer/tenant-list.js';

const hex = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: n, maxLength: n });
const guid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-'));
/** Entries a parameter may hold by mistake or by malice: near-GUIDs, wildcards, names, padding. */
const junk = fc.oneof(
  fc.constantFrom('*', 'any', 'common', 'organizations', '', ' ', 'contoso.onmicrosoft.com'),
  guid.map((g) => `${g}x`),
  guid.map((g) => g.replaceAll('-', '')),
  guid.map((g) => `{${g}}`),
  fc.string({ maxLength: 40 }),
);
const entry = fc.oneof(
  guid,
  guid.map((g) => ` ${g} `),
  junk,
);

describe('a tenant list from a parameter value', () => {
  it('holds exactly the GUIDs the value names, lower-cased, however the rest is written', () => {
    // Oracle: docs/configuration.md, "Tenants from an SSM parameter": a JSON array of tenant GUIDs or a
    // comma-separated StringList; anything that is not a GUID (8-4-4-4-12 hexadecimal) is dropped, so the
    // list is the set of GUID entries, written here with a regular expression of its own.
    const isGuid = (s: string) => /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(s.trim());
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), fc.boolean(), (entries, asJson) => {
        const joined = entries.join(',');
        // A comma inside an entry, or a first character that reads as JSON, can only be written as JSON.
        const json = asJson || entries.some((e) => e.includes(',')) || /^\s*[[{"]/.test(joined);
        const value = json ? JSON.stringify(entries) : joined;
        const { tenants, dropped } = parseTenantList({ value, type: 'String', version: '1' });
        expect(tenants).toEqual(new Set(entries.filter(isGuid).map((e) => e.trim().toLowerCase())));
        if (json) expect(dropped.length).toBe(entries.filter((e) => !isGuid(e)).length);
      }),
    );
  });

  it('never widens: no value admits a tenant it does not name', () => {
    // Oracle: docs/configuration.md: a parameter's list can name tenants only; "*" and every other word are
    // dropped, so a tenant GUID absent from the value is never on the list.
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 10 }), guid, (entries, outsider) => {
        for (const value of [JSON.stringify(entries), entries.join(',')]) {
          let tenants: Set<string>;
          try {
            tenants = parseTenantList({ value, type: 'StringList', version: '1' }).tenants;
          } catch (err) {
            expect(err).toBeInstanceOf(TenantListError);
            continue;
          }
          if (!value.toLowerCase().includes(outsider.toLowerCase())) {
            expect(tenants.has(outsider.toLowerCase())).toBe(false);
          }
        }
      }),
    );
  });
});
