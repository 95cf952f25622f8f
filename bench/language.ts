// Speed of the SLS language server, over LSP as an editor talks to it: completion and hover on a generated
// 3,000-line SLS, indexing a generated 1,000-file state tree for workspace symbols, memory. Medians and p95
// are printed with their ratio to a bare LSP round trip measured in the same run. Then the formula corpus
// (test/fixtures/sls/corpus): the time to index it and its diagnostics by severity.
// Targets (issue 4): completion and hover p95 <= 30 ms, indexing <= 2 s; (issue 9) 0 errors and 0 warnings
// on the corpus.
// Usage: node scripts/build.mjs && node out/bench/language.js
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { StateTree } from '../src/sls/tree';
import { findRoots } from '../src/sls/roots';
import { LspClient, corpusFolders, corpusStateFiles, pos, saltPython as python } from '../test/server/lsp';

const FILES = 1000;
const BIG_LINES = 3000;

function stateBlock(id: string, index: number, requireId?: string): string[] {
  const lines = [`${id}:`, '  file.managed:', `    - name: /srv/app/${id}.conf`, `    - source: salt://files/app.conf`, '    - mode: "0644"'];
  if (index % 3 === 0) lines.push('    - template: jinja', '    - context:', `        port: {{ pillar.get('port', ${8000 + index}) }}`);
  if (requireId) lines.push('    - require:', `      - file: ${requireId}`);
  lines.push('');
  return lines;
}

/** A 1,000-file tree: 50 packages of 20 modules, each including its neighbour, with a Jinja loop per file. */
function makeTree(root: string): { big: string; bigText: string } {
  const salt = join(root, 'salt');
  mkdirSync(join(salt, 'files'), { recursive: true });
  writeFileSync(join(salt, 'files', 'app.conf'), 'port = 80\n');
  const top = ['base:', "  '*':"];
  for (let n = 0; n < FILES - 1; n++) {
    const pkg = `pkg${Math.floor(n / 20)}`;
    const mod = `mod${n % 20}`;
    mkdirSync(join(salt, pkg), { recursive: true });
    const lines = [`{% from "${pkg}/map.jinja" import cfg with context %}`];
    if (n % 20 > 0) lines.push('include:', `  - .mod${(n % 20) - 1}`, '');
    for (let s = 0; s < 4; s++) lines.push(...stateBlock(`${pkg}_${mod}_state${s}`, s, s > 0 ? `${pkg}_${mod}_state${s - 1}` : undefined));
    lines.push('{% for site in cfg.sites %}', `${pkg}_${mod}_site_{{ site }}:`, '  cmd.run:', '    - name: echo {{ site }}', '{% endfor %}', '');
    writeFileSync(join(salt, pkg, `${mod}.sls`), lines.join('\n'));
    writeFileSync(join(salt, pkg, 'map.jinja'), "{% set cfg = {'sites': ['a', 'b']} %}\n");
    top.push(`    - ${pkg}.${mod}`);
  }
  writeFileSync(join(salt, 'top.sls'), top.join('\n') + '\n');
  // The 1,000th file: one SLS of 3,000 lines.
  const big = ['# bench', 'include:', '  - pkg0.mod0', ''];
  let index = 0;
  while (big.length < BIG_LINES) {
    big.push(...stateBlock(`big_state_${index}`, index, index > 0 ? `big_state_${index - 1}` : 'pkg0_mod0_state0'));
    index++;
  }
  const bigText = big.slice(0, BIG_LINES).join('\n') + '\n';
  const bigFile = join(salt, 'big.sls');
  writeFileSync(bigFile, bigText);
  return { big: bigFile, bigText };
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95), n: samples.length };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function rssMiB(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'sls-bench-'));
  const cache = join(work, 'cache');
  const rows: [string, { median: number; p95: number; n: number } | number, string][] = [];
  try {
    const { big, bigText } = makeTree(work);
    const bigLines = bigText.split('\n');

    // In-process indexing, for reference (no LSP).
    const inProcess = await time(async () => new StateTree(join(work, 'salt')).all());

    // Indexing over LSP: from a fresh server to the first full workspace symbol answer.
    const env = { SALT_CONTAINERS_CACHE: cache, ...(existsSync(python) ? { SALT_CONTAINERS_PYTHON: python } : {}) };
    let client!: LspClient;
    let symbolCount = 0;
    const indexing = await time(async () => {
      client = await LspClient.start({ folder: work, env });
      symbolCount = (await client.request<unknown[]>('workspace/symbol', { query: '' })).length;
    });
    const rssAfterIndex = rssMiB(client.child.pid);
    const catalogue = existsSync(python) ? await client.until('the catalogue', () => client.logs.find((l) => l.startsWith('state catalogue:')), 120_000).then(() => true) : false;

    // Baseline: a bare LSP round trip (a method the server does not have: parse, dispatch, answer).
    const baseline: number[] = [];
    for (let i = 0; i < 300; i++) baseline.push(await time(() => client.request('$/salt-containers/bench-ping', {}).catch(() => undefined)));

    const uri = client.open(big, bigText);
    await client.diagnosticsOf(uri);
    const functionLines = bigLines.flatMap((l, i) => (l === '  file.managed:' ? [i] : []));
    const requisiteLines = bigLines.flatMap((l, i) => (l.startsWith('      - file: ') ? [i] : []));
    const argumentLines = bigLines.flatMap((l, i) => (l.startsWith('    - mode:') ? [i] : []));
    const pick = (list: number[], i: number) => list[(i * 7919) % list.length];

    const completion: number[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = i % 3;
      const line = kind === 0 ? pick(requisiteLines, i) : kind === 1 ? pick(argumentLines, i) : pick(functionLines, i);
      const character = kind === 0 ? bigLines[line].length : kind === 1 ? 6 : 7;
      completion.push(await time(() => client.request('textDocument/completion', { textDocument: { uri }, position: pos(line, character) })));
    }
    // Typing: an edit, then completion (the server re-reads the 3,000 lines first).
    const typing: number[] = [];
    for (let i = 0; i < 100; i++) {
      const line = pick(requisiteLines, i);
      // Type a character into the first line's comment, or take it out again: the text really changes.
      client.change(uri, i % 2 ? { start: pos(0, 7), end: pos(0, 8) } : { start: pos(0, 7), end: pos(0, 7) }, i % 2 ? '' : 'x');
      typing.push(await time(() => client.request('textDocument/completion', { textDocument: { uri }, position: pos(line, bigLines[line].length) })));
    }
    const hover: number[] = [];
    for (let i = 0; i < 300; i++) {
      hover.push(await time(() => client.request('textDocument/hover', { textDocument: { uri }, position: pos(pick(functionLines, i), 6) })));
    }
    const symbols: number[] = [];
    for (let i = 0; i < 50; i++) symbols.push(await time(() => client.request('workspace/symbol', { query: `state${i % 4}` })));
    const rssEnd = rssMiB(client.child.pid);
    await client.stop();

    // The corpus: indexing in-process and over LSP, then every state file's diagnostics (with the catalogue, cached by now).
    const corpusInProcess = await time(async () => corpusFolders.map((folder) => new StateTree(findRoots(folder).stateRoot).all()));
    let corpusClient!: LspClient;
    let corpusSymbols = 0;
    const [first, ...rest] = corpusFolders;
    const corpusIndexing = await time(async () => {
      corpusClient = await LspClient.start({ folder: first, moreFolders: rest, env });
      corpusSymbols = (await corpusClient.request<unknown[]>('workspace/symbol', { query: '' })).length;
    });
    if (catalogue) await corpusClient.until('the catalogue', () => corpusClient.logs.find((l) => l.startsWith('state catalogue:')), 120_000);
    const corpusFiles = corpusStateFiles();
    const bySeverity = [0, 0, 0, 0];
    for (const file of corpusFiles) for (const d of (await corpusClient.diagnosticsOf(corpusClient.open(file))) as Diagnostic[]) bySeverity[(d.severity ?? 1) - 1]++;
    await corpusClient.stop();

    const base = stats(baseline);
    rows.push(['baseline: bare LSP round trip', base, '']);
    rows.push(['completion (3,000-line SLS)', stats(completion), '<= 30 ms p95']);
    rows.push(['completion after an edit (re-read + complete)', stats(typing), '<= 30 ms p95']);
    rows.push([`hover (${catalogue ? 'with' : 'WITHOUT'} catalogue)`, stats(hover), '<= 30 ms p95']);
    rows.push(['workspace symbol query (indexed)', stats(symbols), '']);
    rows.push([`indexing ${FILES} files over LSP (start -> first ${symbolCount} symbols)`, indexing, '<= 2000 ms']);
    rows.push([`indexing ${FILES} files in-process (StateTree)`, inProcess, '']);

    console.log(`SLS language server bench: ${FILES} files, big file ${BIG_LINES} lines, node ${process.version}`);
    for (const [name, value, target] of rows) {
      if (typeof value === 'number') console.log(`${name.padEnd(58)} ${value.toFixed(0).padStart(7)} ms            ${target}`);
      else
        console.log(
          `${name.padEnd(58)} median ${value.median.toFixed(2).padStart(6)} ms  p95 ${value.p95.toFixed(2).padStart(6)} ms  (x${(value.median / base.median).toFixed(1)} / x${(value.p95 / base.p95).toFixed(1)} baseline, n=${value.n})  ${target}`,
        );
    }
    console.log(`server memory (RSS): ${rssAfterIndex.toFixed(0)} MiB after indexing, ${rssEnd.toFixed(0)} MiB at the end`);
    console.log(
      `formula corpus: ${corpusFiles.length} state files in ${corpusFolders.length} trees; indexed in ${corpusInProcess.toFixed(0)} ms in-process, ${corpusIndexing.toFixed(0)} ms over LSP (start -> first ${corpusSymbols} symbols)`,
    );
    const [errors, warnings, information, hints] = bySeverity;
    console.log(`formula corpus diagnostics (${catalogue ? 'with' : 'WITHOUT'} catalogue): ${errors} errors, ${warnings} warnings, ${information} information, ${hints} hints   target 0 errors, 0 warnings: ${errors + warnings === 0 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
