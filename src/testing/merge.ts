/**
 * `salt-containers report merge`: the shards of a CI fleet joined into one report, as if one run had
 * run every cell: their `test --json` documents into one (cells in the stable shard order, the worst
 * exit code, engines and notes once) and their JUnit files into one (a testsuite per matrix suite,
 * the cases of every shard, counts and times added up). Pure: texts in, texts out.
 */
import { xmlEscape } from './junit';

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

type Doc = Record<string, unknown>;

const isDoc = (value: unknown): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Which kind of report a file holds: a `test --json` document or JUnit XML. */
export function reportKind(text: string): 'json' | 'junit' | undefined {
  const start = text.trimStart();
  if (start.startsWith('{')) return 'json';
  if (start.startsWith('<')) return 'junit';
  return undefined;
}

const cellId = (cell: Doc) => JSON.stringify([cell.suite, cell.imageName ?? cell.image, cell.salt]);

/** `test --json` documents (one per shard) as one. A cell in two of them is an error: shards never overlap. */
export function mergeJson(docs: { file: string; text: string }[]): Doc {
  const parsed = docs.map(({ file, text }) => {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new MergeError(`${file}: not JSON: ${(error as Error).message}`);
    }
    if (!isDoc(doc) || !Array.isArray(doc.cells) || !isDoc(doc.matrix)) throw new MergeError(`${file}: not a \`salt-containers test --json\` document (no matrix and cells)`);
    return { file, doc };
  });
  if (parsed.length === 0) throw new MergeError('no JSON reports to merge');
  const seen = new Map<string, string>();
  const cells: Doc[] = [];
  for (const { file, doc } of parsed) {
    for (const cell of doc.cells as unknown[]) {
      if (!isDoc(cell)) continue;
      const id = cellId(cell);
      const before = seen.get(id);
      if (before) throw new MergeError(`cell ${String(cell.suite)}.${String(cell.imageName ?? cell.image)}@${String(cell.salt)} is in ${before} and in ${file}: shards do not overlap (was a report given twice?)`);
      seen.set(id, file);
      cells.push(cell);
    }
  }
  const key = (c: Doc) => [String(c.suite), String(c.imageName ?? c.image), String(c.salt)];
  cells.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  });
  const codes = parsed.map(({ doc }) => doc.retcode);
  const retcode = codes.some((c) => c !== 0 && c !== 2) ? 1 : codes.includes(2) ? 2 : 0;
  const matrix = parsed[0].doc.matrix as Doc;
  const notes = new Map<string, unknown>();
  for (const { doc } of parsed) for (const note of ((doc.matrix as Doc).notes as unknown[]) ?? []) notes.set(JSON.stringify(note), note);
  const engines = new Map<string, Doc>();
  for (const { doc } of parsed) {
    for (const engine of (doc.engines as unknown[]) ?? []) {
      if (!isDoc(engine)) continue;
      const name = String(engine.name);
      const known = engines.get(name);
      // An engine that answered one shard answered: its reachable report wins.
      if (!known || (engine.reachable === true && known.reachable !== true)) engines.set(name, engine);
    }
  }
  return { ...parsed[0].doc, retcode, matrix: { ...matrix, notes: [...notes.values()] }, engines: [...engines.values()], cells };
}

interface SuiteCases {
  name: string;
  cases: string[];
  timeS: number;
}

const TESTSUITE = /<testsuite\b([^>]*?)(\/>|>([\s\S]*?)<\/testsuite>)/g;
/** A testcase, self-closed or with its failure/error/skipped: attribute values and bodies have `<` and `>` escaped. */
const TESTCASE = /<testcase\b[^>]*?(?:\/>|>[\s\S]*?<\/testcase>)/g;

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(attributes);
  return match?.[1];
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** JUnit files (one per shard, as `test --junit` writes them) as one: suites by name, cases in file order. */
export function mergeJunit(files: { file: string; text: string }[]): string {
  if (files.length === 0) throw new MergeError('no JUnit reports to merge');
  const suites = new Map<string, SuiteCases>();
  let totalS = 0;
  for (const { file, text } of files) {
    if (!/<testsuites?\b/.test(text)) throw new MergeError(`${file}: not JUnit XML (no <testsuites>)`);
    totalS += Number(attribute(/<testsuites\b([^>]*)>/.exec(text)?.[1] ?? '', 'time') ?? 0) || 0;
    for (const match of text.matchAll(TESTSUITE)) {
      const name = unescapeXml(attribute(match[1], 'name') ?? '');
      const suite = suites.get(name) ?? { name, cases: [], timeS: 0 };
      suites.set(name, suite);
      suite.timeS += Number(attribute(match[1], 'time') ?? 0) || 0;
      suite.cases.push(...(match[3] ?? '').match(TESTCASE) ?? []);
    }
  }
  const count = (cases: string[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => /<failure\b/.test(c)).length,
    errors: cases.filter((c) => /<error\b/.test(c)).length,
    skipped: cases.filter((c) => /<skipped\b/.test(c)).length,
  });
  const attrs = (values: Record<string, string | number>) => Object.entries(values).map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`).join('');
  const all = [...suites.values()].flatMap((s) => s.cases);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs({ name: 'salt-containers test', ...count(all), time: totalS.toFixed(3) })}>`];
  for (const suite of suites.values()) {
    lines.push(`  <testsuite${attrs({ name: suite.name, ...count(suite.cases), time: suite.timeS.toFixed(3) })}>`);
    lines.push(...suite.cases.map((c) => `    ${c}`));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
