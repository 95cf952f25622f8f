/**
 * The differential check of src/sls/jinjaSyntax.ts against Jinja itself: templates found under some
 * folders, and mutations of them made here (a `%}`, `}}`, `)`, `]` or end tag removed, a tag misspelled,
 * a block closed by the wrong end tag), each parsed by jinja2 with Salt's extensions (differential.py,
 * run by a Python with Salt) and by jinjaSyntaxErrors. Used by test/server/jinja-differential.test.ts
 * (our fixtures) and bench/jinjaDifferential.ts (any folders, e.g. public formulas).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jinjaSyntaxErrors } from '../../src/sls/jinjaSyntax';
import { scanJinja } from '../../src/sls/jinja';

const TEMPLATE = /\.(sls|jinja|j2)$/;

/** Every template (.sls, .jinja, .j2) below the folders, by path; `.git` and `node_modules` skipped. */
export function templatesUnder(folders: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git' && entry.name !== 'node_modules') walk(path);
      } else if (entry.isFile() && TEMPLATE.test(entry.name)) out.set(path, readFileSync(path, 'utf8'));
    }
  };
  for (const folder of folders) walk(resolve(folder));
  return out;
}

/**
 * The cases of a cases file (test/fixtures/jinja/cases.txt): each from a line `### name` to the next; a
 * case named `crlf ...` has \r\n line ends, one named `cr ...` lone \r.
 */
export function casesFile(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = readFileSync(path, 'utf8').split(/^### /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf('\n');
    const name = part.slice(0, newline);
    let text = part.slice(newline + 1);
    if (name.startsWith('crlf ')) text = text.replace(/\n/g, '\r\n');
    if (name.startsWith('cr ')) text = text.replace(/\n/g, '\r');
    out.set(`${path} ${name}`, text);
  }
  return out;
}

/** Up to three places of a list: the first, the middle and the last. */
const spread = <T>(items: T[]): T[] => [...new Set([items[0], items[Math.floor(items.length / 2)], items[items.length - 1]])].filter((x) => x !== undefined);

const MISSPELT: Record<string, string> = { set: 'sett', if: 'iff', for: 'fro', macro: 'marco', from: 'form', import: 'improt', endif: 'endfi', endfor: 'endfro', endmacro: 'endmarco', do: 'od', call: 'cal', elif: 'elsif', else: 'els' };
const WRONG_END: Record<string, string> = { endif: 'endfor', endfor: 'endif', endmacro: 'endif', endcall: 'endmacro', endfilter: 'endfor', endraw: 'endif', endset: 'endif', endwith: 'endfor', endload: 'endif' };

/** Broken variants of a template, named by what was done and where (offset). */
export function mutations(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const tags = scanJinja(text).filter((t) => !t.unterminated && t.kind !== 'comment');
  const remove = (label: string, at: number, length: number) => out.set(`${label}@${at}`, text.slice(0, at) + text.slice(at + length));
  const replace = (label: string, at: number, length: number, by: string) => out.set(`${label}@${at}`, text.slice(0, at) + by + text.slice(at + length));
  const closers = (kind: 'statement' | 'expression') => tags.filter((t) => t.kind === kind).map((t) => t.end - 2);
  for (const at of spread(closers('statement'))) remove('no %}', at, 2);
  for (const at of spread(closers('expression'))) remove('no }}', at, 2);
  for (const char of [')', ']']) {
    const inside = tags.flatMap((t) => [...text.slice(t.start, t.end).matchAll(new RegExp(`\\${char}`, 'g'))].map((m) => t.start + m.index));
    for (const at of spread(inside)) remove(`no ${char}`, at, 1);
  }
  const statements = tags.filter((t) => t.kind === 'statement' && t.keyword);
  const ends = statements.filter((t) => t.keyword!.startsWith('end'));
  for (const t of spread(ends)) remove(`no {% ${t.keyword} %}`, t.start, t.end - t.start);
  const keywordAt = (t: (typeof statements)[number]) => text.indexOf(t.keyword!, t.start);
  for (const t of spread(statements.filter((s) => MISSPELT[s.keyword!]))) replace(`${t.keyword} misspelt`, keywordAt(t), t.keyword!.length, MISSPELT[t.keyword!]);
  for (const t of spread(ends.filter((s) => WRONG_END[s.keyword!]))) replace(`${t.keyword} as ${WRONG_END[t.keyword!]}`, keywordAt(t), t.keyword!.length, WRONG_END[t.keyword!]);
  return out;
}

export interface Verdict {
  line: number;
  message: string;
}

export interface DifferentialResult {
  templates: number;
  errorsAgreed: number;
  cleanAgreed: number;
  /** Cases where the checker and Jinja differ: error or not, the line, or the message. */
  disagreed: { name: string; jinja: Verdict | null; ours: Verdict | null }[];
}

/** Jinja's verdicts (differential.py under `python`), in batches. */
export function jinjaVerdicts(python: string, cases: Map<string, string>): Map<string, Verdict | null> {
  const script = resolve(__dirname, '..', '..', '..', 'test', 'jinja', 'differential.py');
  const out = new Map<string, Verdict | null>();
  const entries = [...cases];
  for (let i = 0; i < entries.length; i += 2000) {
    const batch = Object.fromEntries(entries.slice(i, i + 2000));
    const answer = JSON.parse(execFileSync(python, [script], { input: JSON.stringify(batch), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' })) as Record<string, Verdict | null>;
    for (const [name, verdict] of Object.entries(answer)) out.set(name, verdict);
  }
  return out;
}

/** Both verdicts on every case; `mutate` adds the mutations of each template. */
export function differential(python: string, templates: Map<string, string>, mutate: boolean): DifferentialResult {
  const cases = new Map<string, string>();
  for (const [name, text] of templates) {
    cases.set(name, text);
    if (mutate) for (const [label, mutated] of mutations(text)) cases.set(`${name} [${label}]`, mutated);
  }
  const jinja = jinjaVerdicts(python, cases);
  const result: DifferentialResult = { templates: cases.size, errorsAgreed: 0, cleanAgreed: 0, disagreed: [] };
  for (const [name, text] of cases) {
    const found = jinjaSyntaxErrors(text)[0];
    const ours = found ? { line: found.line, message: found.message } : null;
    const theirs = jinja.get(name) ?? null;
    if (!ours && !theirs) result.cleanAgreed++;
    else if (ours && theirs && ours.line === theirs.line && ours.message === theirs.message) result.errorsAgreed++;
    else result.disagreed.push({ name, jinja: theirs, ours });
  }
  return result;
}

export const summary = (r: DifferentialResult) => `${r.templates} templates, ${r.errorsAgreed} errors agreed, ${r.cleanAgreed} clean agreed, ${r.disagreed.length} disagreed`;
