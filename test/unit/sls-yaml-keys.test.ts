// Mapping keys as Salt's YAML loader loads them (src/sls/yamlKeys.ts), against what Salt 3006.29 and
// 3008.4 were seen to do: which keys conflict ("found conflicting ID 'True'") and how Salt names them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument, isMap, type Pair } from 'yaml';
import { loadedKey } from '../../src/sls/yamlKeys';

/** The loaded keys of a one-mapping document. */
const keysOf = (text: string) => {
  const doc = parseDocument(text, { uniqueKeys: false, version: '1.1' });
  assert.ok(isMap(doc.contents));
  return doc.contents.items.map((pair: Pair) => loadedKey(pair.key));
};
const same = (a: string, b: string) => {
  const [x, y] = keysOf(`${a}: 1\n${b}: 2\n`);
  return x !== undefined && y !== undefined && x.identity === y.identity;
};

describe('mapping keys as Salt loads them', () => {
  it('finds the conflicts Salt finds', () => {
    for (const [a, b] of [['on', 'true'], ['yes', 'Yes'], ['1', 'true'], ['1.0', '1'], ['~', 'null'], ['010', '10'], ['0x10', '16'], ['off', '0'], ['"x"', 'x'], ['.nan', '.NaN']]) assert.ok(same(a, b), `${a} and ${b}`);
  });

  it('keeps apart what Salt keeps apart', () => {
    // PyYAML reads y, n and 0o10 as strings; quoted scalars are always strings.
    for (const [a, b] of [['1', '"1"'], ['y', 'true'], ['n', 'false'], ['0o10', '8'], ["'true'", 'true'], ['1_000', '1000.5']]) assert.ok(!same(a, b), `${a} and ${b}`);
  });

  it("names a key as Salt's message does, and leaves merge keys and other tags uncompared", () => {
    assert.deepEqual(keysOf('on: 1\nNULL: 2\n2.50: 3\n-010: 4\n"a b": 5\n').map((k) => k?.name), ['True', 'None', '2.5', '-8', 'a b']);
    assert.deepEqual(keysOf('<<: {a: 1}\n!!int 3: 2\n!!str 3: 1\n').map((k) => k?.identity), [undefined, undefined, 's:3']);
  });
});
