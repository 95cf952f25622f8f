/** Which Python runs Salt and where the bundled one goes: pure decisions over what the engine saw. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRuntime, minimumPython, NEWEST_PYTHON, pythonRule, runtimePlaces, satisfies, versionAtLeast, whyNotPython, type ThinPackage } from '../../src/engine/runtime/choose';
import { debianArch } from '../../src/engine/runtime/debian';

/** A thin as Salt 3008.4's generator records it here (abridged): Salt, tornado and PyYAML. */
const packages: ThinPackage[] = [
  { name: 'salt', dist: 'salt', version: '3008.4', requiresPython: '>=3.8', compiled: [], pure: true },
  { name: 'tornado', dist: 'tornado', version: '6.5.2', requiresPython: '>= 3.9', compiled: ['abi3'], pure: true },
  { name: 'yaml', dist: 'PyYAML', version: '6.0.4', requiresPython: '>=3.8', compiled: ['cpython-311'], pure: true },
  { name: 'ssl_match_hostname', compiled: [], pure: true },
];
const rule = pythonRule({ saltVersion: '3008.4', packages });
const context = { image: 'debian:12', rule };

describe('choosing the Python', () => {
  it("takes the first of the container's Pythons that can run the thin, unless the bundled one is asked for", () => {
    const seen = [{ python: 'python3' }, { python: '/usr/libexec/platform-python', version: '3.6' }, { python: 'python', version: '3.12' }];
    assert.deepEqual(chooseRuntime('auto', seen, context), { kind: 'container', python: 'python', version: '3.12' });
    assert.deepEqual(chooseRuntime('container', seen, context), { kind: 'container', python: 'python', version: '3.12' });
    assert.deepEqual(chooseRuntime('bundled', seen, context), { kind: 'bundled', reason: 'the python runtime setting asks for it (bundled)' });
  });

  it('auto: the bundled one, saying why', () => {
    assert.deepEqual(chooseRuntime('auto', [{ python: 'python3' }, { python: 'python' }], context), { kind: 'bundled', reason: 'the container has no Python 3' });
    assert.deepEqual(chooseRuntime('auto', [{ python: 'python3', version: '3.8' }], context), {
      kind: 'bundled',
      reason: "the container's Python 3.8 (python3) cannot run Salt 3008.4's thin: tornado 6.5.2 requires Python >=3.9",
    });
    assert.deepEqual(chooseRuntime('auto', [{ python: 'python', version: '2.7' }], context).kind, 'bundled');
  });

  it('container: none, with a message that names the image, why, and which Pythons would do', () => {
    const none = chooseRuntime('container', [{ python: 'python3' }], context);
    assert.equal(none.kind, 'none');
    if (none.kind !== 'none') return;
    assert.equal(none.message, 'image debian:12 has no Python 3');
    assert.match(none.hint, /set it to "auto" or "bundled"/);
    assert.match(none.hint, /install python3 \(Python 3\.9 to 3\.13\)/);
    const old = chooseRuntime('container', [{ python: 'python3', version: '3.8' }], context);
    assert.equal(old.kind === 'none' && old.message, "image debian:12: the container's Python 3.8 (python3) cannot run Salt 3008.4's thin: tornado 6.5.2 requires Python >=3.9");
  });

  it('a dependency with Requires-Python >= 3.10 keeps a 3.9 container off (the TypeError of 3006/3007 on Debian 11)', () => {
    const thin = [...packages, { name: 'packaging', dist: 'packaging', version: '26.4', requiresPython: '>=3.10', compiled: [], pure: true }];
    const facts = { saltVersion: '3007.16', packages: thin };
    assert.equal(whyNotPython(facts, '3.9'), 'packaging 26.4 requires Python >=3.10');
    assert.equal(whyNotPython(facts, '3.10'), undefined);
    assert.equal(pythonRule(facts).accepted[0], '3.10');
    const choice = chooseRuntime('auto', [{ python: 'python3', version: '3.9' }], { image: 'debian:11', rule: pythonRule(facts) });
    assert.deepEqual(choice, { kind: 'bundled', reason: "the container's Python 3.9 (python3) cannot run Salt 3007.16's thin: packaging 26.4 requires Python >=3.10" });
  });

  it('compiled files for another Python: fine when the package runs without them, else only that Python', () => {
    assert.equal(whyNotPython({ saltVersion: '3008.4', packages }, '3.12'), undefined); // PyYAML's cpython-311 files are left out; it runs pure
    const compiledOnly = [...packages, { name: 'fastthing', dist: 'fastthing', version: '1.0', requiresPython: '>=3.8', compiled: ['cpython-311'], pure: false }];
    const facts = { saltVersion: '3008.4', packages: compiledOnly };
    assert.equal(whyNotPython(facts, '3.12'), 'fastthing 1.0 runs only with its compiled files, built for Python 3.11');
    assert.equal(whyNotPython(facts, '3.11'), undefined);
    assert.deepEqual(pythonRule(facts).accepted, ['3.11']);
  });

  it('a container Python newer than any Salt is known to run on gets the bundled one', () => {
    assert.equal(NEWEST_PYTHON, '3.13');
    assert.equal(whyNotPython({ saltVersion: '3008.4', packages }, '3.14'), 'Python 3.14 is newer than any Salt is known to run on (3.13)');
    const choice = chooseRuntime('auto', [{ python: 'python3', version: '3.14' }], context);
    assert.equal(choice.kind, 'bundled');
    assert.match(choice.kind === 'bundled' ? choice.reason : '', /Python 3\.14 is newer than any Salt is known to run on/);
    // An upper bound a package states counts too.
    assert.match(whyNotPython({ saltVersion: '3006.29', packages: [{ name: 'old', dist: 'old', version: '1', requiresPython: '>=3.6,<3.12', compiled: [], pure: true }] }, '3.12') ?? '', /old 1 requires Python >=3.6,<3.12/);
  });

  it('the entry point is given exactly the accepted versions, and the log says why one was taken', () => {
    assert.deepEqual(rule.accepted, ['3.9', '3.10', '3.11', '3.12', '3.13']);
    assert.equal(rule.because, 'Salt 3008.4 and the 4 packages of its thin support it (Python 3.9 to 3.13)');
  });

  it('reads PEP 440 specifiers as a minor version meets them (its newest patch)', () => {
    assert.ok(satisfies('3.9', '>=3.9, !=3.9.0, !=3.9.1'));
    assert.ok(satisfies('3.10', '>=2.7, !=3.0.*, !=3.1.*, !=3.2.*'));
    assert.ok(!satisfies('3.1', '>=2.7, !=3.0.*, !=3.1.*'));
    assert.ok(satisfies('3.11', '~=3.9'));
    assert.ok(!satisfies('3.11', '~=3.9.0'));
    assert.ok(satisfies('3.8', '>=3.8.0'));
    assert.ok(!satisfies('3.12', '<3.12'));
    assert.ok(satisfies('3.12', '==3.*'));
    assert.ok(satisfies('3.12', '>=2'));
  });

  it('a thin made before its packages were recorded falls back to the oldest Python each Salt runs on', () => {
    assert.equal(minimumPython('3008.4'), '3.10');
    assert.equal(minimumPython('3009.0rc1'), '3.10');
    assert.equal(minimumPython('3007.8'), '3.8');
    assert.equal(whyNotPython({ saltVersion: '3008.4' }, '3.9'), 'Salt 3008.4 needs Python 3.10 or newer');
    assert.ok(versionAtLeast('3.10', '3.9'));
    assert.ok(!versionAtLeast('3.9', '3.10'));
    assert.ok(versionAtLeast('4.0', '3.10'));
  });

  it('makes the runtime for amd64 and arm64 images only', () => {
    assert.equal(debianArch('amd64'), 'amd64');
    assert.equal(debianArch('arm64'), 'arm64');
    assert.equal(debianArch('s390x'), undefined);
  });
});

describe('placing the bundled runtime', () => {
  const host = (extra: Record<string, unknown> = {}) => ({ HostConfig: { ...extra }, Mounts: [] as { Destination: string }[] });

  it('goes to /tmp, else /var/tmp, else /, on the root filesystem', () => {
    assert.deepEqual(runtimePlaces(host() as never), { parents: ['/tmp', '/var/tmp', '/'] });
  });

  it('never into a mount: a tmpfs or a volume would hide the upload (moby#22020) or forbid exec', () => {
    assert.deepEqual(runtimePlaces(host({ Tmpfs: { '/tmp': 'rw,noexec' } }) as never), { parents: ['/var/tmp', '/'] });
    assert.deepEqual(runtimePlaces({ HostConfig: {}, Mounts: [{ Destination: '/var' }, { Destination: '/tmp/' }] } as never), { parents: ['/'] });
    assert.deepEqual(runtimePlaces(host({ Mounts: [{ Target: '/var/tmp', Type: 'tmpfs' }] }) as never), { parents: ['/tmp', '/'] });
    assert.deepEqual(runtimePlaces({ HostConfig: {}, Mounts: [{ Destination: '/tmpdata' }] } as never), { parents: ['/tmp', '/var/tmp', '/'] });
  });

  it('has no place on a read-only root filesystem', () => {
    assert.deepEqual(runtimePlaces(host({ ReadonlyRootfs: true }) as never), { readOnly: true });
  });
});
