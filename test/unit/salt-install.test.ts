// What installSalt says when the host cannot make a venv: what happened and what to install.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { installSalt, SaltInstallError } from '../../src/engine/salt/install';

describe('installSalt on a host that cannot', () => {
  it('without python3 says so and what to install', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'salt-install-test-'));
    try {
      await assert.rejects(installSalt({ cacheDir: cache, hostPython: join(cache, 'no-python3') }), (error: unknown) => {
        assert.ok(error instanceof SaltInstallError);
        assert.match(error.message, /there is no .*no-python3 on this machine to install Salt with/);
        assert.match(error.hint, /apt-get install python3 python3-venv/);
        return true;
      });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('refuses a version that is not one', async () => {
    await assert.rejects(installSalt({ cacheDir: tmpdir(), version: '3008.4; rm -rf /' }), /is not a Salt version/);
  });
});
