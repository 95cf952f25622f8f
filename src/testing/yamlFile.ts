/**
 * A YAML file read for a matrix: its plain value, and the 1-based line of any path in it, so that
 * problems and test items point at the line that says them.
 */
import { LineCounter, parseDocument } from 'yaml';

export type YamlPath = (string | number)[];

export interface YamlFile {
  value: unknown;
  /** 1-based line of the node at `path` (its key's line for a map entry), or undefined. */
  lineOf(path: YamlPath): number | undefined;
  /** Syntax errors: message and 1-based line. */
  errors: { message: string; line?: number }[];
}

export function readYaml(text: string): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  return {
    value: doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 1000 }),
    errors: doc.errors.map((e) => ({ message: e.message.split('\n')[0], line: lineAt(e.pos?.[0]) })),
    lineOf(path) {
      if (path.length === 0) return 1;
      // The key's line for a map entry: the value may start on the next line.
      const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
      const last = path[path.length - 1];
      const items = (parent as { items?: unknown[] } | null)?.items;
      if (Array.isArray(items)) {
        const found =
          typeof last === 'number' && !items.some((i) => isPairLike(i)) ? items[last] : items.find((i) => isPairLike(i) && keyOf(i) === String(last));
        const node = isPairLike(found) ? found.key : found;
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        if (range) return lineAt(range[0]);
      }
      return undefined;
    },
  };
}

interface PairLike {
  key: unknown;
  value: unknown;
}

function isPairLike(item: unknown): item is PairLike {
  return typeof item === 'object' && item !== null && 'key' in item && 'value' in item;
}

function keyOf(pair: PairLike): string {
  const key = pair.key as { value?: unknown } | null;
  return String(key && typeof key === 'object' && 'value' in key ? key.value : key);
}
