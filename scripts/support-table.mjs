// The README's support table, rendered from the support matrix's results (test-output/support-matrix.json,
// written by test/integration/support.test.ts): a row per image kind, a column per Salt release; each
// cell says whether converge and idempotence passed, and which Python ran Salt.
// Usage: node scripts/support-table.mjs [--json FILE] [--readme README.md]
//   prints the table; with --readme, replaces what stands between <!-- support-table --> and
//   <!-- /support-table --> in that file.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { json: { type: 'string' }, readme: { type: 'string' } } });
const results = JSON.parse(readFileSync(values.json ?? join(root, 'test-output', 'support-matrix.json'), 'utf8'));

/** One cell's words: passed (and with which Python), or the phase that failed. */
function cellText(cell) {
  if (!cell) return 'not run';
  const python = cell.python ? `${cell.python.kind === 'bundled' ? 'bundled' : "container's"} ${cell.python.version}` : 'no Python';
  if (cell.passed && cell.converge && cell.idempotence) return `pass (${python})`;
  const failed = !cell.converge ? 'converge' : !cell.idempotence ? 'idempotence' : 'cell';
  return `**fails** at ${failed}`;
}

const salts = results.salt;
const lines = [
  `| image | ${salts.map((s) => `Salt ${s}`).join(' | ')} |`,
  `|---|${salts.map(() => '---').join('|')}|`,
  ...results.images.map((image) => `| ${image.kind} (\`${image.image}\`) | ${salts.map((s) => cellText(results.cells.find((c) => c.image === image.name && c.salt === s))).join(' | ')} |`),
];
const passed = results.cells.filter((c) => c.passed).length;
const table = `${lines.join('\n')}\n\n${passed} of ${results.cells.length} cells pass (converge and idempotence), measured ${results.generated.slice(0, 10)} in ${(results.durationMs / 1000).toFixed(0)} s on 2 workers.`;

if (values.readme) {
  const text = readFileSync(values.readme, 'utf8');
  const start = '<!-- support-table -->';
  const end = '<!-- /support-table -->';
  const [from, to] = [text.indexOf(start), text.indexOf(end)];
  if (from < 0 || to < from) {
    console.error(`${values.readme} has no ${start} ... ${end} to replace`);
    process.exit(1);
  }
  writeFileSync(values.readme, `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`);
}
console.log(table);
