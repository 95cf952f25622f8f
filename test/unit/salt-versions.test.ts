// Salt version names, the releases the index serves by line and support, and an install's way down a
// line past releases whose pins the index lacks (install steps driven by scripted pip answers).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatSaltVersions } from '../../src/cli/salt';
import { installSteps, missingPin, SaltInstallError, type InstallStep } from '../../src/engine/salt/install';
import {
  candidates,
  compareVersions,
  groupByLine,
  indexJsonUrl,
  lineStatus,
  parseVersionName,
  pipIndexUrl,
  recordUninstallable,
  releasesFromJson,
  releasesFromPipIndex,
  uninstallable,
} from '../../src/engine/salt/versions';

const PIP_INDEX = 'salt (3008.5)\nAvailable versions: 3008.5, 3008.4, 3008.3, 3007.17, 3007.16, 3007.9, 3007.10, 3006.30, 3006.29, 3006.3, 3005.5, 3009.0rc1\n';

describe('Salt version names and releases', () => {
  it('reads a release, a line or latest, and refuses anything else', () => {
    assert.deepEqual(parseVersionName('3006.29'), { kind: 'exact', version: '3006.29' });
    assert.deepEqual(parseVersionName('3008'), { kind: 'line', line: 3008 });
    assert.deepEqual(parseVersionName('latest'), { kind: 'latest' });
    assert.deepEqual(parseVersionName('3009.0rc1'), { kind: 'exact', version: '3009.0rc1' });
    assert.throws(() => parseVersionName('3008.4; rm -rf /'), /is not a Salt version/);
    assert.throws(() => parseVersionName('newest'), /name a release \(3008\.4\), a line \(3008\) or latest/);
  });

  it('orders releases numerically, a pre-release before its release', () => {
    assert.ok(compareVersions('3006.10', '3006.9') > 0);
    assert.ok(compareVersions('3009.0rc1', '3009.0') < 0);
    assert.ok(compareVersions('3009.0rc1', '3008.5') > 0);
    assert.equal(compareVersions('3007.16', '3007.16'), 0);
  });

  it("reads pip's list and the JSON API's, newest first; a line or latest never means a pre-release, a yanked release or one known not to install", () => {
    const releases = releasesFromPipIndex(PIP_INDEX);
    assert.deepEqual(releases.slice(0, 3).map((r) => r.version), ['3009.0rc1', '3008.5', '3008.4']);
    assert.deepEqual(candidates({ kind: 'line', line: 3007 }, releases), ['3007.17', '3007.16', '3007.10', '3007.9']);
    assert.deepEqual(candidates({ kind: 'line', line: 3008 }, releases, { '3008.5': 'it pins certifi>=2026.10.23' }), ['3008.4', '3008.3']);
    assert.deepEqual(candidates({ kind: 'latest' }, releases).slice(0, 2), ['3008.5', '3008.4']);
    assert.deepEqual(candidates({ kind: 'exact', version: '3007.8' }, releases), ['3007.8']);
    const json = releasesFromJson({
      releases: {
        '3007.8': [{ upload_time: '2025-09-18T10:00:00', yanked: false }],
        '3007.2': [{ upload_time: '2024-05-01T00:00:00', yanked: true }],
        '3006.0rc1': [],
      },
    });
    assert.deepEqual(json, [
      { version: '3007.8', line: 3007, date: '2025-09-18', yanked: false, prerelease: false },
      { version: '3007.2', line: 3007, date: '2024-05-01', yanked: true, prerelease: false },
    ]);
    assert.deepEqual(candidates({ kind: 'line', line: 3007 }, json), ['3007.8']);
  });

  it("says each line's support on a day (3007 STS ended 2026-07-31, 3006 LTS until 2027-07)", () => {
    const day = new Date('2026-12-05T00:00:00Z');
    assert.deepEqual(lineStatus(3008, day), { status: 'LTS' });
    assert.deepEqual(lineStatus(3007, day), { status: 'end of life', until: '2026-07-31' });
    assert.deepEqual(lineStatus(3007, new Date('2026-01-01')), { status: 'STS', until: '2026-07-31' });
    assert.deepEqual(lineStatus(3006, day), { status: 'LTS', until: '2027-07-31' });
    assert.deepEqual(lineStatus(3006, new Date('2027-08-01')), { status: 'end of life', until: '2027-07-31' });
    assert.deepEqual(lineStatus(3005, day), { status: 'end of life' });
    assert.deepEqual(lineStatus(3009, day), { status: 'unreleased line' });
  });

  it('groups by line with what the cache holds, and prints it', () => {
    const lines = groupByLine(
      releasesFromPipIndex(PIP_INDEX),
      [
        { version: '3008.4', where: 'host', path: '/c/salt/3008.4' },
        { version: '3008.4', where: 'engine', path: '/c/thin/x' },
        { version: '3005.5', where: 'host', path: '/c/salt/3005.5' },
      ],
      { '3008.5': 'it pins certifi>=2026.10.23, which the package index does not serve' },
      new Date('2026-12-05'),
    );
    assert.deepEqual(
      lines.map((l) => [l.line, l.status, l.releases.length]),
      [
        [3009, 'unreleased line', 1],
        [3008, 'LTS', 3],
        [3007, 'end of life', 4],
        [3006, 'LTS', 3],
        [3005, 'end of life', 1],
      ],
    );
    assert.deepEqual(lines[1].releases[1].cached, ['host', 'engine']);
    const text = formatSaltVersions(lines, 2);
    assert.match(text, /^3008 {2}LTS\n {2}3008\.5 {17}does not install here: it pins certifi>=2026\.10\.23/);
    assert.match(text, /^ {2}3008\.4 {17}cached \(host, engine\)$/m);
    assert.doesNotMatch(text, /3009/); // a line of pre-releases only
    assert.match(text, /^3007 {2}end of life since 2026-07-31\n(?: {2}.*\n){2} {2}\.\.\. 2 older$/m);
    assert.match(text, /^3006 {2}LTS until 2027-07-31$/m);
  });

  it("finds the index's JSON API from pip's settings", () => {
    assert.equal(indexJsonUrl(undefined), 'https://pypi.org/pypi/salt/json');
    assert.equal(indexJsonUrl('https://mirror.example/simple/'), 'https://mirror.example/pypi/salt/json');
    assert.equal(indexJsonUrl('https://nexus.example/repository/pypi/simple'), 'https://nexus.example/repository/pypi/pypi/salt/json');
    assert.equal(pipIndexUrl({ PIP_INDEX_URL: 'https://m.example/simple' }), 'https://m.example/simple');
  });

  it('keeps a record of releases that do not install here', () => {
    const cache = mkdtempSync(join(tmpdir(), 'salt-versions-test-'));
    try {
      assert.deepEqual(uninstallable(cache), {});
      recordUninstallable(cache, [{ version: '3008.5', reason: 'it pins certifi>=2026.10.23' }]);
      recordUninstallable(cache, [{ version: '3007.17', reason: 'it pins certifi>=2026.10.23' }]);
      assert.deepEqual(Object.keys(uninstallable(cache)).sort(), ['3007.17', '3008.5']);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

/** A scripted pip: each argv answered by the first rule whose pattern its joined argv matches. */
function scriptedPip(rules: [RegExp, { code: number; output: string }][]): { step: InstallStep; calls: string[] } {
  const calls: string[] = [];
  const step: InstallStep = async (argv) => {
    const line = argv.join(' ');
    calls.push(line);
    const rule = rules.find(([pattern]) => pattern.test(line));
    return rule ? rule[1] : { code: 0, output: '' };
  };
  return { step, calls };
}

const NO_CERTIFI = { code: 1, output: 'ERROR: Could not find a version that satisfies the requirement certifi>=2026.10.23 (from salt)\nERROR: No matching distribution found for certifi>=2026.10.23\n' };
const probe = (version: string) => [new RegExp(`-c [^]*import salt.version`), { code: 0, output: JSON.stringify({ salt: version, python: '3.11' }) }] as [RegExp, { code: number; output: string }];

describe('installing down a line', () => {
  it('knows a pin the index lacks from a release the index lacks', () => {
    assert.equal(missingPin(NO_CERTIFI.output), 'certifi>=2026.10.23');
    assert.equal(missingPin('ERROR: No matching distribution found for salt==3999.1'), undefined);
  });

  it('a line: the newest that installs, saying which newer one could not and why', async () => {
    const { step, calls } = scriptedPip([[/pip index versions/, { code: 0, output: PIP_INDEX }], [/install .*salt==3007\.17/, NO_CERTIFI], probe('3007.16')]);
    const lines: string[] = [];
    const result = await installSteps(step, 'python3', '/v', '3007', (l) => lines.push(l), 'Check the index');
    assert.deepEqual(result, { version: '3007.16', skipped: [{ version: '3007.17', reason: 'it pins certifi>=2026.10.23, which the package index does not serve' }] });
    assert.ok(lines.includes('salt==3007.17 cannot install here: it pins certifi>=2026.10.23, which the package index does not serve; trying 3007.16'), lines.join('\n'));
    assert.ok(calls.some((c) => /pip install salt==3007\.16/.test(c)));
  });

  it('an exact release that cannot install: the error names the newest of its line that can', async () => {
    const { step } = scriptedPip([[/pip index versions/, { code: 0, output: PIP_INDEX }], [/install salt==3008\.5/, NO_CERTIFI], [/install --dry-run salt==3008\.4/, { code: 0, output: 'Would install salt-3008.4' }]]);
    await assert.rejects(installSteps(step, 'python3', '/v', '3008.5', () => undefined, 'Check the index'), (error: unknown) => {
      assert.ok(error instanceof SaltInstallError);
      assert.equal(error.message, 'salt==3008.5 cannot install here: it pins certifi>=2026.10.23, which the package index does not serve; the newest 3008 that installs here is 3008.4');
      assert.match(error.hint, /^Name 3008\.4 \(or the line, 3008, which takes the newest that installs\)/);
      assert.deepEqual((error as unknown as { skipped: unknown[] }).skipped, [{ version: '3008.5', reason: 'it pins certifi>=2026.10.23, which the package index does not serve' }]);
      return true;
    });
  });

  it("a release that came without dependencies gets them from its sdist's lock file", async () => {
    let thinChecks = 0;
    const { step, calls } = scriptedPip([probe('3007.8')]);
    const withThin: InstallStep = async (argv, onLine) => {
      if (argv.join(' ').includes('get_tops')) return thinChecks++ === 0 ? { code: 1, output: "ModuleNotFoundError: No module named 'jinja2'" } : { code: 0, output: '' };
      if (argv.join(' ').includes('requirements/static/pkg')) return { code: 0, output: 'requirements/static/pkg/py3.11/linux.txt\n' };
      return step(argv, onLine);
    };
    const result = await installSteps(withThin, 'python3', '/v', '3007.8', () => undefined, 'Check the index');
    assert.deepEqual(result, { version: '3007.8', skipped: [], requirements: 'requirements/static/pkg/py3.11/linux.txt' });
    assert.ok(calls.some((c) => c.includes('pip download --no-deps --no-binary :all: --dest /v/salt-sdist salt==3007.8')), calls.join('\n'));
    assert.ok(calls.some((c) => c.includes('pip install -r /v/salt-requirements.txt')), calls.join('\n'));
  });
});
