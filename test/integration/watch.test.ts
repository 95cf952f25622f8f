/**
 * `salt-containers watch` never misses a save, on the real engine and Salt: every way a file is saved
 * or changed (in place, renamed over, deleted and made again, a new folder, a link to the tree, the
 * pillar file renamed over, a file moved out), a git checkout or a formatter over 50 files, each makes
 * exactly one run, and the container holds the last content; editors' side files make none; a tree
 * removed and a system without file watches left are told. A soak: 100 edits, one run each, in order.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine } from '../../src/engine';
import { readInContainer, removeContainer, startContainer } from '../support/containers';
import { SAVES, deleteAndRecreate, inPlace, renameOver, startWatch, type WatchProcess } from '../support/watch';

const engine = new DockerEngine();

/** What the module manages: the files folder as /srv/sc-watch (clean: what left the tree goes), and a pillar value. */
const MODULE = `sc_watch_files:
  file.recurse:
    - name: /srv/sc-watch
    - source: salt://w/files
    - clean: True

sc_watch_pillar:
  file.managed:
    - name: /srv/sc-watch-pillar
    - contents: {{ pillar.get('word', 'none') }}
`;

/** A folder with salt/w (the module, files/content) and pillar.example. */
function watchTree(): { dir: string; states: string; content: string; pillar: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-watch-'));
  const states = join(dir, 'salt');
  mkdirSync(join(states, 'w', 'files'), { recursive: true });
  writeFileSync(join(states, 'w', 'init.sls'), MODULE);
  writeFileSync(join(states, 'w', 'files', 'content'), 'v0\n');
  writeFileSync(join(dir, 'pillar.example'), 'word: p0\n');
  return { dir, states, content: join(states, 'w', 'files', 'content'), pillar: join(dir, 'pillar.example') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Long enough for a second run to have started if the change made two (debounce 150 ms, plus a run's time). */
const QUIET_MS = 1000;

/** After a change: exactly one more run, and it succeeded. */
async function oneRun(watch: WatchProcess, before: number): Promise<void> {
  await watch.runs(before + 1, 30_000);
  await sleep(QUIET_MS);
  assert.equal(watch.docs.length, before + 1, `one change, one run (${watch.docs.length - before} runs)`);
  const doc = watch.docs[before];
  assert.equal(doc.retcode, 0, JSON.stringify(doc.errors) + watch.stderr());
}

describe('watch: each kind of change is one run, and the container holds the last content', () => {
  let container: string;
  let tree: ReturnType<typeof watchTree>;
  let watch: WatchProcess;
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=a', ...args], { cwd: tree.dir, stdio: 'pipe' });
  const many = () => join(tree.states, 'w', 'files', 'many');
  const cat = (path: string) => readInContainer(engine, container, path);

  before(async () => {
    container = await startContainer(engine, undefined, 'sc-watch');
    tree = watchTree();
    // Two branches of 50 files each for the checkout, made before the watch starts.
    mkdirSync(many());
    git('init', '-q');
    for (let i = 0; i < 50; i++) writeFileSync(join(many(), `f${i}`), 'a\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'a');
    git('checkout', '-q', '-b', 'b');
    for (let i = 0; i < 50; i++) writeFileSync(join(many(), `f${i}`), 'b\n');
    git('commit', '-q', '-a', '-m', 'b');
    git('checkout', '-q', 'a');
    watch = startWatch(['w', '--container', container, '--states', 'salt', '--pillar', 'pillar.example'], tree.dir);
    await watch.runs(1);
    assert.equal(watch.docs[0].retcode, 0, watch.stderr());
    assert.equal(await cat('/srv/sc-watch/content'), 'v0\n');
    assert.equal(await cat('/srv/sc-watch-pillar'), 'p0\n');
  });
  after(async () => {
    if (watch) assert.equal(await watch.stop(), 0, watch.stderr());
    await removeContainer(engine, container);
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('a save by rename (sed -i), three in a row: one run each, each content in the container', async () => {
    for (const text of ['sed 1', 'sed 2', 'sed 3']) {
      const runs = watch.docs.length;
      execFileSync('sed', ['-i', `s/.*/${text}/`, tree.content]);
      await oneRun(watch, runs);
      assert.equal(await cat('/srv/sc-watch/content'), `${text}\n`);
    }
  });

  it('a save by rename (a new file renamed over the old one): one run', async () => {
    const runs = watch.docs.length;
    renameOver(tree.content, 'renamed over\n');
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'renamed over\n');
  });

  it('an in-place write: one run', async () => {
    const runs = watch.docs.length;
    inPlace(tree.content, 'in place\n');
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'in place\n');
  });

  it('delete, then recreate: one run', async () => {
    const runs = watch.docs.length;
    deleteAndRecreate(tree.content, 'recreated\n');
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'recreated\n');
  });

  it('a new folder, then a file in it: one run, and the container has the file; an edit in that folder later is one run too', async () => {
    let runs = watch.docs.length;
    mkdirSync(join(tree.states, 'w', 'files', 'new'));
    writeFileSync(join(tree.states, 'w', 'files', 'new', 'file'), 'new 1\n');
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/new/file'), 'new 1\n');
    runs = watch.docs.length;
    renameOver(join(tree.states, 'w', 'files', 'new', 'file'), 'new 2\n');
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/new/file'), 'new 2\n');
  });

  it('the pillar file replaced by rename: one run with the new pillar, twice', async () => {
    for (const word of ['p1', 'p2']) {
      const runs = watch.docs.length;
      renameOver(tree.pillar, `word: ${word}\n`);
      await oneRun(watch, runs);
      assert.equal(await cat('/srv/sc-watch-pillar'), `${word}\n`);
    }
  });

  it('a file moved out of the tree: one run, and the next run no longer has it', async () => {
    const runs = watch.docs.length;
    assert.equal(await cat('/srv/sc-watch/new/file'), 'new 2\n');
    renameSync(join(tree.states, 'w', 'files', 'new', 'file'), join(tree.dir, 'moved-out'));
    await oneRun(watch, runs);
    assert.equal((await engine.exec(container, ['test', '-e', '/srv/sc-watch/new/file'])).exitCode, 1, 'file.recurse (clean) removed it: the run no longer had it');
  });

  it('a git checkout that changes 50 files: one run, the container holds the checked-out files', async () => {
    assert.equal(await cat(`/srv/sc-watch/many/f49`), 'a\n');
    const runs = watch.docs.length;
    git('checkout', '-q', 'b');
    await oneRun(watch, runs);
    const files = (await engine.exec(container, ['sh', '-c', 'cat /srv/sc-watch/many/*'])).stdout;
    assert.equal(files, 'b\n'.repeat(50));
  });

  it('a formatter that rewrites 50 files by rename: one run', async () => {
    const runs = watch.docs.length;
    for (let i = 0; i < 50; i++) renameOver(join(many(), `f${i}`), 'formatted\n');
    await oneRun(watch, runs);
    const files = (await engine.exec(container, ['sh', '-c', 'cat /srv/sc-watch/many/*'])).stdout;
    assert.equal(files, 'formatted\n'.repeat(50));
  });

  it("editors' side files, version control and editor folders make no run; the save beside them makes one", async () => {
    const runs = watch.docs.length;
    const folder = join(tree.states, 'w', 'files');
    for (const name of ['.content.swp', '.content.swx', '4913', 'content~', '#content#', '.#content', 'content___jb_tmp___', '.goutputstream-AB12CD']) writeFileSync(join(folder, name), 'side\n');
    for (const dir of ['.git', '.vscode', '.idea']) {
      mkdirSync(join(tree.states, dir), { recursive: true });
      writeFileSync(join(tree.states, dir, 'state'), 'x\n');
    }
    await sleep(QUIET_MS);
    assert.equal(watch.docs.length, runs, 'no run for side files');
    for (const name of ['.content.swp', '.content.swx', '4913', 'content~', '#content#', '.#content', 'content___jb_tmp___', '.goutputstream-AB12CD']) rmSync(join(folder, name));
    await sleep(QUIET_MS);
    assert.equal(watch.docs.length, runs, 'no run for side files removed');
    renameOver(tree.content, 'after side files\n');
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'after side files\n');
  });

  it('the state tree removed: watch says so and runs nothing until it is back; then one run', async () => {
    const runs = watch.docs.length;
    // The tree comes back whole (as a checkout that replaces the folder leaves it), with an edit.
    const backup = join(tree.dir, 'backup');
    cpSync(tree.states, backup, { recursive: true });
    writeFileSync(join(backup, 'w', 'files', 'content'), 'back\n');
    rmSync(tree.states, { recursive: true });
    await sleep(QUIET_MS);
    assert.match(watch.stderr(), /note: salt was removed: the next run waits until it is back/);
    assert.equal(watch.docs.length, runs, 'no run without the tree');
    renameSync(backup, tree.states);
    await oneRun(watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'back\n');
    // Watched again: a save after it is seen.
    inPlace(tree.content, 'after it came back\n');
    await oneRun(watch, runs + 1);
    assert.equal(await cat('/srv/sc-watch/content'), 'after it came back\n');
  });
});

describe('watch: a symlinked state tree', () => {
  let container: string;
  let tree: ReturnType<typeof watchTree>;
  let watch: WatchProcess;
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-watch');
    tree = watchTree();
    symlinkSync(tree.states, join(tree.dir, 'linked'));
  });
  after(async () => {
    if (watch) assert.equal(await watch.stop(), 0, watch.stderr());
    await removeContainer(engine, container);
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('--states is a link to the tree: saves in the tree it leads to are one run each', async () => {
    watch = startWatch(['w', '--container', container, '--states', 'linked', '--pillar', 'pillar.example'], tree.dir);
    await watch.runs(1);
    assert.equal(watch.docs[0].retcode, 0, watch.stderr());
    for (const [save, text] of [
      [renameOver, 'through the link, renamed over\n'],
      [inPlace, 'through the link, in place\n'],
    ] as const) {
      const runs = watch.docs.length;
      save(tree.content, text);
      await oneRun(watch, runs);
      assert.equal(await readInContainer(engine, container, '/srv/sc-watch/content'), text);
    }
  });
});

describe("watch: past the system's limit of file watches", () => {
  let container: string;
  let tree: ReturnType<typeof watchTree>;
  let watch: WatchProcess;
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-watch');
    tree = watchTree();
  });
  after(async () => {
    if (watch) assert.equal(await watch.stop(), 0, watch.stderr());
    await removeContainer(engine, container);
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('says so, and goes on watching what it can', async () => {
    // A user namespace of its own with room for 20 watches: the tree takes under 10; then a checkout
    // brings 40 folders, more than are left.
    const limited = ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 20 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'];
    watch = startWatch(['w', '--container', container, '--states', 'salt', '--pillar', 'pillar.example'], tree.dir, { wrap: limited });
    await watch.runs(1);
    assert.equal(watch.docs[0].retcode, 0, watch.stderr());
    const runs = watch.docs.length;
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(tree.states, 'w', 'files', `d${i}`));
      writeFileSync(join(tree.states, 'w', 'files', `d${i}`, 'f'), `${i}\n`);
    }
    await oneRun(watch, runs);
    assert.match(watch.stderr(), /note: cannot watch \d+ folders and files \(salt\/w\/files\/d\d+.*\): the system's limit of file watches is reached \(ENOSPC\); changes there are not seen\. Raise it \(sudo sysctl fs\.inotify\.max_user_watches=524288\)/);
    assert.equal(await readInContainer(engine, container, '/srv/sc-watch/d39/f'), '39\n');
    // What was watched before still is.
    inPlace(tree.content, 'still watched\n');
    await oneRun(watch, runs + 1);
    assert.equal(await readInContainer(engine, container, '/srv/sc-watch/content'), 'still watched\n');
  });
});

describe('watch: a soak of 100 edits', () => {
  let container: string;
  let tree: ReturnType<typeof watchTree>;
  let watch: WatchProcess;
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-watch');
    tree = watchTree();
  });
  after(async () => {
    if (watch) assert.equal(await watch.stop(), 0, watch.stderr());
    await removeContainer(engine, container);
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('in place, renamed over, deleted and recreated in turn: each edit one run with its content, in order', async () => {
    watch = startWatch(['w', '--container', container, '--states', 'salt', '--pillar', 'pillar.example'], tree.dir);
    await watch.runs(1);
    for (let i = 1; i <= 100; i++) {
      const save = SAVES[i % 3];
      save(tree.content, `edit ${i}\n`);
      await watch.runs(i + 1, 30_000);
      assert.equal(watch.docs.length, i + 1, `edit ${i} (${save.name}) made one run`);
      assert.equal(watch.docs[i].retcode, 0, JSON.stringify(watch.docs[i].errors));
      assert.equal(await readInContainer(engine, container, '/srv/sc-watch/content'), `edit ${i}\n`, `edit ${i} (${save.name})`);
    }
    await sleep(QUIET_MS);
    assert.equal(watch.docs.length, 101, '100 edits, 100 runs after the first');
  });
});
