/** Which Python runs Salt and where the bundled one goes: pure decisions over what the engine saw. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRuntime, minimumPython, runtimePlaces, versionAtLeast } from '../../src/engine/runtime/choose';
import { debianArch } from '../../src/engine/runtime/debian';

const context = { image: 'debian:12', saltVersion: '3008.4', minimum: '3.10' };

describe('choosing the Python', () => {
  it("takes the first of the container's Pythons that Salt supports, unless the bundled one is asked for", () => {
    const seen = [{ python: 'python3' }, { python: '/usr/libexec/platform-python', version: '3.6' }, { python: 'python', version: '3.12' }];
    assert.deepEqual(chooseRuntime('auto', seen, context), { kind: 'container', python: 'python', version: '3.12' });
    assert.deepEqual(chooseRuntime('container', seen, context), { kind: 'container', python: 'python', version: '3.12' });
    assert.deepEqual(chooseRuntime('bundled', seen, context), { kind: 'bundled', reason: 'the python runtime setting asks for it (bundled)' });
  });

  it('auto: the bundled one, saying why', () => {
    assert.deepEqual(chooseRuntime('auto', [{ python: 'python3' }, { python: 'python' }], context), { kind: 'bundled', reason: 'the container has no Python 3' });
    assert.deepEqual(chooseRuntime('auto', [{ python: 'python3', version: '3.9' }], context), {
      kind: 'bundled',
      reason: "the container's Python 3.9 (python3) is older than Salt 3008.4 supports (3.10 or newer)",
    });
    assert.deepEqual(chooseRuntime('auto', [{ python: 'python', version: '2.7' }], context).kind, 'bundled');
  });

  it('container: none, with a message that names the image and what to change', () => {
    const none = chooseRuntime('container', [{ python: 'python3' }], context);
    assert.equal(none.kind, 'none');
    if (none.kind !== 'none') return;
    assert.equal(none.message, 'image debian:12 has no Python 3');
    assert.match(none.hint, /set it to "auto" or "bundled"/);
    const old = chooseRuntime('container', [{ python: 'python3', version: '3.9' }], context);
    assert.equal(old.kind === 'none' && old.message, "image debian:12: the container's Python 3.9 (python3) is older than Salt 3008.4 supports (3.10 or newer)");
  });

  it('knows the oldest Python each Salt runs on, and compares versions numerically', () => {
    assert.equal(minimumPython('3008.4'), '3.10');
    assert.equal(minimumPython('3009.0rc1'), '3.10');
    assert.equal(minimumPython('3007.8'), '3.8');
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
