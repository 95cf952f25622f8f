/**
 * testinfra checks inside the cell, with the Python the run injected and nothing needed on this
 * machine but Node: the pure-Python wheels of pytest and pytest-testinfra (and their dependencies) are
 * fetched once from PyPI into the cache (checked against PyPI's sha256), then shipped with the suite's
 * tests as a state tree of their own with a small execution module; salt-call loads it, it unpacks the
 * wheels in the run's private directory and runs pytest with the `local` backend under the same
 * interpreter (sys.executable), and returns pytest's JUnit XML. The run's directory goes with the run:
 * nothing of pytest, testinfra or Salt is left in the container.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import type { RunError } from '../engine/results/model';
import type { SaltRunnerApi } from '../engine/runner';
import type { RunControl } from '../engine/spec';
import type { CheckResult } from './checks';
// The execution module salt-call loads from the shipped tree: unpack the wheels, run pytest, return its JUnit.
import MODULE_SOURCE from './py/salt_containers_testinfra.py';

/** Pure-Python wheels (py3-none-any), pinned: pytest 8.3 runs on Python 3.8 to 3.13; exceptiongroup and tomli are pytest's below 3.11. */
export const TESTINFRA_WHEELS: readonly { name: string; version: string }[] = [
  { name: 'pytest', version: '8.3.5' },
  { name: 'pluggy', version: '1.5.0' },
  { name: 'iniconfig', version: '2.0.0' },
  { name: 'packaging', version: '24.2' },
  { name: 'exceptiongroup', version: '1.2.2' },
  { name: 'tomli', version: '2.2.1' },
  { name: 'pytest-testinfra', version: '10.2.2' },
];

const PYPI = process.env.SALT_CONTAINERS_PYPI_JSON ?? 'https://pypi.org/pypi';
const MODULE = 'salt_containers_testinfra';


/** The wheels in the cache, fetched from PyPI on first use; their folder. */
export async function testinfraWheels(cacheDir: string, signal?: AbortSignal): Promise<string> {
  const id = createHash('sha256').update(JSON.stringify(TESTINFRA_WHEELS)).digest('hex').slice(0, 10);
  const dir = join(cacheDir, 'testinfra', id);
  if (existsSync(join(dir, 'complete'))) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    for (const { name, version } of TESTINFRA_WHEELS) {
      // The project's document (every release's files): some PyPI mirrors serve no per-version one.
      const meta = await fetch(`${PYPI}/${name}/json`, { signal });
      if (!meta.ok) throw new Error(`${name}: PyPI answered ${meta.status}`);
      const { releases } = (await meta.json()) as { releases: Record<string, { filename: string; url: string; packagetype: string; digests: { sha256: string } }[]> };
      const wheel = (releases[version] ?? []).find((u) => u.packagetype === 'bdist_wheel' && /-py3-none-any\.whl$/.test(u.filename));
      if (!wheel) throw new Error(`${name} ${version} has no py3-none-any wheel on PyPI`);
      // A mirror may give the file's address relative to the document's.
      const file = await fetch(new URL(wheel.url, meta.url || `${PYPI}/${name}/json`), { signal });
      if (!file.ok) throw new Error(`${wheel.filename}: PyPI answered ${file.status}`);
      const body = Buffer.from(await file.arrayBuffer());
      const sha = createHash('sha256').update(body).digest('hex');
      if (sha !== wheel.digests.sha256) throw new Error(`${wheel.filename}: sha256 ${sha} is not PyPI's ${wheel.digests.sha256}`);
      writeFileSync(join(partial, wheel.filename), body);
    }
    writeFileSync(join(partial, 'complete'), `${JSON.stringify(TESTINFRA_WHEELS)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return dir;
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#10;/g, '\n').replace(/&amp;/g, '&');
}

const attr = (attributes: string, name: string) => {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(attributes);
  return match ? unescapeXml(match[1]) : undefined;
};

/**
 * pytest's JUnit (xunit1: file and line on each case) as checks, at the host's files: a failure at the
 * line of the failed assertion in the test file (pytest's `file:line:` in its traceback), else the test's.
 * `shippedAs`: the folder the tests were in, relative to pytest's rootdir (`tests`); `source`: that folder on the host.
 */
export function testinfraChecks(xml: string, shippedAs: string, source: string): CheckResult[] {
  const checks: CheckResult[] = [];
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const [attributes, body = ''] = [match[1], match[2]];
    const name = attr(attributes, 'name') ?? '?';
    const file = attr(attributes, 'file');
    const hostFile = file ? join(source, relative(shippedAs, file).split('/').join(sep)) : undefined;
    const defLine = Number(attr(attributes, 'line') ?? NaN);
    const failure = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    const skipped = /<skipped\b/.test(body);
    let line = Number.isFinite(defLine) ? defLine + 1 : undefined;
    let message: string | undefined;
    if (failure) {
      const text = unescapeXml(failure[3] ?? '');
      message = [attr(failure[2], 'message'), text].filter(Boolean).join('\n');
      if (file) {
        const lines = [...text.matchAll(/^(\S+?\.py):(\d+):/gm)].filter((m) => m[1] === file || m[1].endsWith(`/${basename(file)}`));
        if (lines.length) line = Number(lines[lines.length - 1][2]);
      }
    }
    checks.push({
      name: `${attr(attributes, 'classname') ?? ''}::${name}`.replace(/^::/, ''),
      passed: failure ? false : skipped ? null : true,
      ...(message ? { message } : {}),
      ...(hostFile ? { file: hostFile } : {}),
      ...(line ? { line } : {}),
      durationMs: Math.round(Number(attr(attributes, 'time') ?? 0) * 1000),
    });
  }
  return checks;
}

/** Runs the testinfra tests at `tests` (a folder or one file on this machine) in the cell's container. */
export async function runTestinfra(runner: SaltRunnerApi, container: string, tests: string, cacheDir: string, control: RunControl): Promise<{ checks: CheckResult[]; errors: RunError[] }> {
  let wheels: string;
  try {
    wheels = await testinfraWheels(cacheDir, control.signal);
  } catch (error) {
    return { checks: [], errors: [{ kind: 'salt', message: `could not fetch pytest and pytest-testinfra from PyPI: ${(error as Error).message}`, hint: 'They are fetched once into the cache (pure-Python wheels); check this machine\'s access to pypi.org.' }] };
  }
  const root = mkdtempSync(join(tmpdir(), 'sc-testinfra-'));
  try {
    mkdirSync(join(root, '_modules'));
    writeFileSync(join(root, '_modules', `${MODULE}.py`), MODULE_SOURCE);
    cpSync(wheels, join(root, 'testinfra', 'wheels'), { recursive: true, filter: (src) => !src.endsWith('complete') });
    const isDir = statSync(tests).isDirectory();
    cpSync(tests, isDir ? join(root, 'testinfra', 'tests') : join(root, 'testinfra', 'tests', basename(tests)), { recursive: true, filter: (src) => !/(^|[/\\])(__pycache__|\.pytest_cache)$/.test(src) });
    const run = await runner.call(container, `${MODULE}.run`, [], {}, { stateRoot: root }, control);
    const value = run.return as { exit?: number; output?: string; junit?: string } | undefined;
    if (!value || typeof value !== 'object') return { checks: [], errors: run.errors.length ? run.errors : [{ kind: 'salt', message: 'the testinfra run returned nothing' }] };
    const checks = testinfraChecks(value.junit ?? '', 'tests', isDir ? tests : join(tests, '..'));
    // 0 all passed, 1 some failed: the checks say which. Anything else is pytest's own trouble (no tests, a usage or collection error).
    const errors: RunError[] = value.exit === 0 || (value.exit === 1 && checks.length) ? [] : [{ kind: 'salt', message: `pytest exited ${value.exit}${value.exit === 5 ? ': no tests collected' : ''}\n${(value.output ?? '').trim().split('\n').slice(-30).join('\n')}`, hint: `Check the testinfra tests in ${tests}.` }];
    return { checks, errors };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
