// Fails when the TypeScript files under a folder (src/ by default) import each other in a cycle:
// the layers (ARCHITECTURE.md) only hold if each module can be read, tested and moved without the
// modules that use it. Type-only imports count too: a cycle of types is still a cycle of meaning.
// Usage: node scripts/check-cycles.mjs [DIR] [--graph]   (--graph prints each file's local imports)
// A regex scan, not a compiler: the repo's imports are plain `import ... from './x'`, `export ...
// from './x'` and `import('./x')`; a specifier that resolves to no file under DIR is ignored.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve, sep } from 'node:path';

const IMPORT = /(?:\bimport|\bexport)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function tsFiles(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The file a relative specifier names, as TypeScript's node resolution would find it, or undefined. */
function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile() && candidate.endsWith('.ts')) return candidate;
  }
  return undefined;
}

/** Each file (relative to root, forward slashes) and the files under root it imports. */
export function importGraph(root) {
  const name = (path) => relative(root, path).split(sep).join('/');
  const graph = new Map();
  for (const file of tsFiles(root)) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const targets = new Set();
    for (const m of text.matchAll(IMPORT)) {
      const target = resolveImport(file, m[1] ?? m[2] ?? m[3]);
      if (target) targets.add(name(target));
    }
    graph.set(name(file), [...targets].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file that imports itself (Tarjan). */
export function cycles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const seen = new Map();
  const low = new Map();
  const found = [];
  const visit = (v) => {
    seen.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!seen.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), seen.get(w)));
    }
    if (low.get(v) === seen.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!seen.has(v)) visit(v);
  return found;
}

/** One path round the cycle, for the message: a -> b -> ... -> a, following imports inside it. */
function pathRound(graph, scc) {
  const members = new Set(scc);
  const start = scc[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)) path.splice(1, 0, u);
        return [...path, start].join(' -> ');
      }
      if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(', ');
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const args = process.argv.slice(2);
  const root = resolve(args.find((a) => !a.startsWith('--')) ?? new URL('../src', import.meta.url).pathname);
  const graph = importGraph(root);
  if (args.includes('--graph')) for (const [file, targets] of graph) console.log(`${file}: ${targets.join(' ')}`);
  const found = cycles(graph);
  const failed = found.length;
  for (const scc of found) console.error(`import cycle among ${scc.length} files: ${scc.join(', ')}\n  ${pathRound(graph, scc)}`);
  const where = relative(process.cwd(), root) || '.';
  if (failed) console.error(`${failed} import cycle(s) under ${where}: break each (a module of shared types, or the import turned round)`);
  else console.log(`no import cycles under ${where} (${graph.size} files)`);
  process.exit(failed ? 1 : 0);
}
