// The differential check of the Jinja syntax checker (src/sls/jinjaSyntax.ts) against jinja2 with Salt's
// extensions, over any folders of templates (public formulas, say): every .sls, .jinja and .j2 below them
// and, with --mutate, the broken variants test/jinja/differential.ts makes of each. Prints the counts and
// every disagreement; exits 1 on any. The test suite runs the same check on our own fixtures.
// Usage: node scripts/build.mjs && node out/bench/jinjaDifferential.js [--mutate] [--python PY] FOLDER...
// (PY: a Python with Salt; default SALT_CONTAINERS_PYTHON, else the Salt the set-up installs.)
import { differential, summary, templatesUnder } from '../test/jinja/differential';
import { saltPython } from '../test/server/lsp';

function main(): number {
  const args = process.argv.slice(2);
  const mutate = args.includes('--mutate');
  const pythonAt = args.indexOf('--python');
  const python = pythonAt >= 0 ? args[pythonAt + 1] : saltPython;
  const folders = args.filter((a, i) => !a.startsWith('--') && (pythonAt < 0 || i !== pythonAt + 1));
  if (!folders.length) {
    process.stderr.write('usage: node out/bench/jinjaDifferential.js [--mutate] [--python PY] FOLDER...\n');
    return 2;
  }
  const templates = templatesUnder(folders);
  const started = Date.now();
  const result = differential(python, templates, mutate);
  for (const d of result.disagreed) process.stdout.write(`DISAGREE ${d.name}\n  jinja: ${JSON.stringify(d.jinja)}\n  ours:  ${JSON.stringify(d.ours)}\n`);
  process.stdout.write(`${templates.size} files in ${folders.length} folders; ${summary(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return result.disagreed.length ? 1 : 0;
}

process.exitCode = main();
