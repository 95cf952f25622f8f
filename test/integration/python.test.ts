/**
 * The Python the engine runs (every .py under src/, each in a py/ folder beside the TypeScript that runs
 * it, and the programs composed from them) compiles under every Python the product runs it on: the
 * test images' Pythons compile it, and the older minors no image has are checked as grammars (ast's
 * feature_version) by the oldest Python that knows them. A syntax error fails it, with its file and line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { minimumPython, versionAtLeast } from '../../src/engine/runtime';
import { NEWEST_PYTHON } from '../../src/engine/runtime/choose';
import { SUITE } from '../../src/engine/runtime/debian';
import { COMPILE_THIN, GENERATE_THIN, RUN } from '../../src/engine/salt/scripts';
import { SESSION } from '../../src/engine/session/scripts';
import { PY39_IMAGE, PY313_IMAGE, PY3_IMAGE, REPO_ROOT, uniqueName } from '../support/containers';

/**
 * Each image's Python compiles; `grammars`: the minors no image has, which it parses as. Measured:
 * feature_version is best effort and 3.11's parser knows the old grammars best (3.9's lets walrus and
 * positional-only parameters pass as 3.6; 3.13's lets parenthesized context managers pass as 3.6).
 */
const PYTHONS = [
  { image: PY39_IMAGE, version: '3.9', grammars: [] as string[] },
  { image: PY3_IMAGE, version: '3.11', grammars: ['3.6', '3.7', '3.8', '3.10'] },
  { image: PY313_IMAGE, version: '3.13', grammars: ['3.12'] },
];
const CHECKER = readFileSync(join(REPO_ROOT, 'test', 'support', 'py', 'check_syntax.py'), 'utf8');

/** Every .py file under dir, by its path from the repository. */
function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? pythonFiles(path) : name.endsWith('.py') ? [relative(REPO_ROOT, path)] : [];
  });
}

/** The files as they are, and the programs the engine composes of them (the entry point around a body, the tar helpers before a thin script). */
function sources(): Record<string, string> {
  const files = Object.fromEntries(pythonFiles(join(REPO_ROOT, 'src')).map((path) => [path, readFileSync(join(REPO_ROOT, path), 'utf8')]));
  return { ...files, 'RUN (salt/scripts.ts)': RUN, 'SESSION (session/scripts.ts)': SESSION, 'GENERATE_THIN (salt/scripts.ts)': GENERATE_THIN, 'COMPILE_THIN (salt/scripts.ts)': COMPILE_THIN };
}

/** The checker's verdict from a throwaway container of image (no network, removed when done). */
function check(image: string, grammars: string[], input: Record<string, string>): Promise<{ python: string; failures: string[] }> {
  const argv = ['run', '--rm', '-i', '--network', 'none', '--name', uniqueName('sc-pyc'), '--entrypoint', 'python3', image, '-I', '-c', CHECKER, ...grammars];
  return new Promise((resolve, reject) => {
    const child = spawn('docker', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`docker ${argv.slice(0, 9).join(' ')} exited ${code}: ${stderr}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

describe('the Python the engine runs', () => {
  it('is checked on every Python minor the product runs it on: the containers\' (oldest Salt\'s minimum to the newest) and the bundled runtime\'s', () => {
    const minor = (v: string) => Number(v.split('.')[1]);
    const checked = PYTHONS.flatMap((p) => [p.version, ...p.grammars]).sort((a, b) => minor(a) - minor(b));
    const oldest = minimumPython('3000');
    const minors = Array.from({ length: 20 }, (_, i) => `3.${i}`).filter((v) => versionAtLeast(v, oldest) && versionAtLeast(NEWEST_PYTHON, v));
    assert.deepEqual(checked, minors);
    assert.ok(PYTHONS.some((p) => p.version === SUITE.python), `the bundled runtime's Python ${SUITE.python} is compiled with`);
    assert.ok(Object.keys(sources()).filter((name) => name.endsWith('.py')).length >= 14, 'the .py files were found');
  });

  for (const { image, version, grammars } of PYTHONS) {
    it(`compiles under Python ${version} (${image})${grammars.length ? `, parses as ${grammars.join(', ')}` : ''}`, async () => {
      const input = sources();
      const verdict = await check(image, grammars, input);
      assert.match(verdict.python, new RegExp(`^${version.replace('.', '\\.')}\\.\\d+$`));
      assert.deepEqual(verdict.failures, []);
      console.log(`Python ${verdict.python} (${image}) compiled ${Object.keys(input).length} programs${grammars.length ? `; the grammars of ${grammars.join(', ')} parsed them` : ''}`);
    });
  }

  it('fails on a syntax error, and on syntax newer than an older Python it runs on, naming the file and line', async () => {
    const body = readFileSync(join(REPO_ROOT, 'src', 'engine', 'salt', 'py', 'run_body.py'), 'utf8');
    const broken = {
      'broken.py': `${body}def (\n`,
      'walrus.py': `${body}if (found := sys.argv):\n    pass\n`,
    };
    const line = body.split('\n').length;
    const { image, grammars } = PYTHONS.find((p) => p.grammars.includes('3.6'))!;
    const verdict = await check(image, grammars, broken);
    assert.deepEqual(
      verdict.failures.map((f) => f.replace(/: .*\(/, ': (')),
      [`broken.py:${line}: (Python ${verdict.python.split('.').slice(0, 2).join('.')})`, `walrus.py:${line}: (grammar of Python 3.6)`, `walrus.py:${line}: (grammar of Python 3.7)`],
    );
  });
});
