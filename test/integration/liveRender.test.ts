/**
 * The live render's engine on the real engine and real Salt: an unsaved buffer laid over the tree for
 * one warm mock run (`state.sls MOD mock=True`, nothing applied), Salt's verdict located in the buffer
 * (sls/saltFindings.ts): an undefined variable, a broken imported map.jinja (at the import line, the
 * template's line related), a requisite to nothing, a YAML error after Jinja at its source line; each
 * gone once the buffer is fixed, the files on disk never touched, and nothing left in the container.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource, WarmSessions, type SaltTree, type TreeOverlay } from '../../src/engine';
import { locateSaltRun, type SaltFinding } from '../../src/sls/saltFindings';
import { PY3_IMAGE, containerDiff, leftovers, removeContainer, startContainer } from '../support/containers';

const engine = new DockerEngine();

const INIT = [
  '{% from "web/map.jinja" import web with context %}', // line 1
  'web_config:',
  '  file.managed:',
  '    - name: /etc/web.conf',
  '    - contents: "port {{ web.port }}"',
  'web_check:',
  '  cmd.run:',
  '    - name: cat /etc/web.conf',
  '    - require:',
  '      - file: web_config', // line 10
  '',
].join('\n');
const MAP = ['{% set web = {', "  'port': 8080,", '} %}', '{% set extra = {} %}', ''].join('\n');

describe('live render: an unsaved buffer rendered by the target’s warm Salt', () => {
  const runner = new SaltRunner(engine, new SaltSource());
  const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: 120_000 });
  runner.warm = sessions;
  let container = '';
  let dir = '';
  let tree: SaltTree;
  let init = '';
  let map = '';
  let diffBefore: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-live-render-'));
    tree = { stateRoot: join(dir, 'salt') };
    mkdirSync(join(tree.stateRoot, 'web'), { recursive: true });
    init = join(tree.stateRoot, 'web', 'init.sls');
    map = join(tree.stateRoot, 'web', 'map.jinja');
    writeFileSync(init, INIT);
    writeFileSync(map, MAP);
    container = await startContainer(engine, PY3_IMAGE, 'sc-live-render');
    diffBefore = await containerDiff(engine, container);
  });

  after(async () => {
    await sessions.dispose();
    if (container) await removeContainer(engine, container);
    rmSync(dir, { recursive: true, force: true });
  });

  /** One live render of web with these buffers: Salt's findings, located in the buffers. */
  async function render(buffers: Record<string, string> = {}): Promise<SaltFinding[]> {
    const overlay: TreeOverlay = new Map(Object.entries(buffers));
    const run = await runner.apply(container, ['web'], tree, { mock: true, warm: true, overlay });
    assert.equal(run.warm, true, 'the warm session rendered it');
    assert.deepEqual(run.errors.filter((e) => e.kind !== 'render'), [], 'Salt ran');
    return locateSaltRun(tree, run, ['web'], overlay);
  }

  const at = (findings: SaltFinding[]) => findings.map((f) => [f.file, f.line, f.code]);

  it('a clean buffer has no findings, and the mock run changed nothing', async () => {
    assert.deepEqual(await render({ [init]: INIT }), []);
  });

  it('an undefined variable: at its line; gone once fixed; the file on disk untouched', async () => {
    const broken = INIT.replace('{{ web.port }}', '{{ no_such_variable }}');
    const found = await render({ [init]: broken });
    assert.deepEqual(at(found), [[init, 4, 'render']]);
    assert.match(found[0].message, /'no_such_variable' is undefined/);
    assert.equal(readFileSync(init, 'utf8'), INIT, 'the buffer never reached the disk');
    assert.deepEqual(await render({ [init]: INIT }), [], 'fixed');
    // The next run without the buffer has the disk's text again (the session was sent it back).
    assert.deepEqual(await render(), []);
  });

  it('a broken imported map.jinja: at the import line, the template’s line related; gone once fixed', async () => {
    const broken = MAP.replace('{% set extra = {} %}', '{% set extra = undefined_in_map.key %}');
    const found = await render({ [map]: broken });
    assert.deepEqual(at(found), [[init, 0, 'template']]);
    assert.equal(found[0].related?.file, map);
    assert.equal(found[0].related?.line, 3, "the map's own line (0-based) where Jinja failed");
    assert.match(found[0].message, /undefined_in_map/);
    assert.deepEqual(await render({ [map]: MAP }), []);
  });

  it('a requisite that matches nothing: at the requisite line; gone once fixed', async () => {
    const broken = INIT.replace('- file: web_config', '- file: nothing_here');
    const found = await render({ [init]: broken });
    assert.deepEqual(at(found), [[init, 9, 'requisite']]);
    assert.match(found[0].message, /nothing_here/);
    assert.deepEqual(await render({ [init]: INIT }), []);
  });

  it('a state function this Salt lacks, and a YAML error after Jinja at its source line', async () => {
    const lacking = INIT.replace('cmd.run:', 'cmd.no_such_function:');
    assert.deepEqual(at(await render({ [init]: lacking })), [[init, 5, 'state-function']]);
    // The loop makes six rendered lines of two: the unclosed flow is the rendered line 12, the source line 6.
    const yaml = ['{% for i in range(3) %}', 'file_{{ i }}:', '  test.nop: []', '{% endfor %}', 'broken:', '  test.nop: [', 'after: x', ''].join('\n');
    const found = await render({ [init]: yaml });
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.deepEqual([found[0].line, found[0].code], [5, 'yaml']);
    assert.deepEqual(await render({ [init]: INIT }), []);
  });

  it('leaves nothing in the container once the session ends', async () => {
    await sessions.end(container, 'closed');
    assert.deepEqual(await leftovers(engine, container), []);
    assert.deepEqual(await containerDiff(engine, container), diffBefore);
  });
});
