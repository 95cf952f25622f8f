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
import { SAVES, deleteAndRecreate, inPlace, renameOver, startWatch, type StartOptions, type WatchProcess } from '../support/watch';

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

interface Fixture {
  container: string;
  tree: ReturnType<typeof watchTree>;
  watch: WatchProcess;
  /** Starts `watch w` on the tree (`--states STATES --pillar pillar.example`); resolves after its first run. */
  start(states?: string, options?: StartOptions): Promise<WatchProcess>;
}

/** A describe's container and tree, made before its tests, and removed after them with the watch a test started. */
function fixture(): Fixture {
  const f = {} as Fixture;
  before(async () => {
    f.container = await startContainer(engine, undefined, 'sc-watch');
    f.tree = watchTree();
  });
  after(async () => {
    const code = f.watch ? await f.watch.stop() : 0;
    await removeContainer(engine, f.container);
    rmSync(f.tree.dir, { recursive: true, force: true });
    assert.equal(code, 0, f.watch?.stderr());
  });
  f.start = async (states = 'salt', options = {}) => {
    f.watch = startWatch(['w', '--container', f.container, '--states', states, '--pillar', 'pillar.example'], f.tree.dir, options);
    const [first] = await f.watch.runs(1);
    assert.equal(first.retcode, 0, f.watch.stderr());
    return f.watch;
  };
  return f;
}

describe('watch: each kind of change is one run, and the container holds the last content', () => {
  const f = fixture();
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=a', ...args], { cwd: f.tree.dir, stdio: 'pipe' });
  const many = () => join(f.tree.states, 'w', 'files', 'many');
  const cat = (path: string) => readInContainer(engine, f.container, path);

  before(async () => {
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
    await f.start();
    assert.equal(await cat('/srv/sc-watch/content'), 'v0\n');
    assert.equal(await cat('/srv/sc-watch-pillar'), 'p0\n');
  });

  it('a save by rename (sed -i), three in a row: one run each, each content in the container', async () => {
    for (const text of ['sed 1', 'sed 2', 'sed 3']) {
      const runs = f.watch.docs.length;
      execFileSync('sed', ['-i', `s/.*/${text}/`, f.tree.content]);
      await oneRun(f.watch, runs);
      assert.equal(await cat('/srv/sc-watch/content'), `${text}\n`);
    }
  });

  for (const [save, what] of [
    [renameOver, 'a save by rename (a new file renamed over the old one)'],
    [inPlace, 'an in-place write'],
    [deleteAndRecreate, 'delete, then recreate'],
  ] as const) {
    it(`${what}: one run`, async () => {
      const runs = f.watch.docs.length;
      save(f.tree.content, `${save.name}\n`);
      await oneRun(f.watch, runs);
      assert.equal(await cat('/srv/sc-watch/content'), `${save.name}\n`);
    });
  }

  it('a new folder, then a file in it: one run, and the container has the file; an edit in that folder later is one run too', async () => {
    let runs = f.watch.docs.length;
    mkdirSync(join(f.tree.states, 'w', 'files', 'new'));
    writeFileSync(join(f.tree.states, 'w', 'files', 'new', 'file'), 'new 1\n');
    await oneRun(f.watch, runs);
    assert.equal(await cat('/srv/sc-watch/new/file'), 'new 1\n');
    runs = f.watch.docs.length;
    renameOver(join(f.tree.states, 'w', 'files', 'new', 'file'), 'new 2\n');
    await oneRun(f.watch, runs);
    assert.equal(await cat('/srv/sc-watch/new/file'), 'new 2\n');
  });

  it('the pillar file replaced by rename: one run with the new pillar, twice', async () => {
    for (const word of ['p1', 'p2']) {
      const runs = f.watch.docs.length;
      renameOver(f.tree.pillar, `word: ${word}\n`);
      await oneRun(f.watch, runs);
      assert.equal(await cat('/srv/sc-watch-pillar'), `${word}\n`);
    }
  });

  it('a file moved out of the tree: one run, and the next run no longer has it', async () => {
    const runs = f.watch.docs.length;
    assert.equal(await cat('/srv/sc-watch/new/file'), 'new 2\n');
    renameSync(join(f.tree.states, 'w', 'files', 'new', 'file'), join(f.tree.dir, 'moved-out'));
    await oneRun(f.watch, runs);
    assert.equal((await engine.exec(f.container, ['test', '-e', '/srv/sc-watch/new/file'])).exitCode, 1, 'file.recurse (clean) removed it: the run no longer had it');
  });

  it('a git checkout that changes 50 files: one run, the container holds the checked-out files', async () => {
    assert.equal(await cat(`/srv/sc-watch/many/f49`), 'a\n');
    const runs = f.watch.docs.length;
    git('checkout', '-q', 'b');
    await oneRun(f.watch, runs);
    const files = (await engine.exec(f.container, ['sh', '-c', 'cat /srv/sc-watch/many/*'])).stdout;
    assert.equal(files, 'b\n'.repeat(50));
  });

  it('a formatter that rewrites 50 files by rename: one run', async () => {
    const runs = f.watch.docs.length;
    for (let i = 0; i < 50; i++) renameOver(join(many(), `f${i}`), 'formatted\n');
    await oneRun(f.watch, runs);
    const files = (await engine.exec(f.container, ['sh', '-c', 'cat /srv/sc-watch/many/*'])).stdout;
    assert.equal(files, 'formatted\n'.repeat(50));
  });

  it("editors' side files, version control and editor folders make no run; the save beside them makes one", async () => {
    const runs = f.watch.docs.length;
    const folder = join(f.tree.states, 'w', 'files');
    for (const name of ['.content.swp', '.content.swx', '4913', 'content~', '#content#', '.#content', 'content___jb_tmp___', '.goutputstream-AB12CD']) writeFileSync(join(folder, name), 'side\n');
    for (const dir of ['.git', '.vscode', '.idea']) {
      mkdirSync(join(f.tree.states, dir), { recursive: true });
      writeFileSync(join(f.tree.states, dir, 'state'), 'x\n');
    }
    await sleep(QUIET_MS);
    assert.equal(f.watch.docs.length, runs, 'no run for side files');
    for (const name of ['.content.swp', '.content.swx', '4913', 'content~', '#content#', '.#content', 'content___jb_tmp___', '.goutputstream-AB12CD']) rmSync(join(folder, name));
    await sleep(QUIET_MS);
    assert.equal(f.watch.docs.length, runs, 'no run for side files removed');
    renameOver(f.tree.content, 'after side files\n');
    await oneRun(f.watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'after side files\n');
  });

  it('the state tree removed: watch says so and runs nothing until it is back; then one run', async () => {
    const runs = f.watch.docs.length;
    // The tree comes back whole (as a checkout that replaces the folder leaves it), with an edit.
    const backup = join(f.tree.dir, 'backup');
    cpSync(f.tree.states, backup, { recursive: true });
    writeFileSync(join(backup, 'w', 'files', 'content'), 'back\n');
    rmSync(f.tree.states, { recursive: true });
    await sleep(QUIET_MS);
    assert.match(f.watch.stderr(), /note: salt was removed: the next run waits until it is back/);
    assert.equal(f.watch.docs.length, runs, 'no run without the tree');
    renameSync(backup, f.tree.states);
    await oneRun(f.watch, runs);
    assert.equal(await cat('/srv/sc-watch/content'), 'back\n');
    // Watched again: a save after it is seen.
    inPlace(f.tree.content, 'after it came back\n');
    await oneRun(f.watch, runs + 1);
    assert.equal(await cat('/srv/sc-watch/content'), 'after it came back\n');
  });
});

describe('watch: a symlinked state tree', () => {
  const f = fixture();

  it('--states is a link to the tree: saves in the tree it leads to are one run each', async () => {
    symlinkSync(f.tree.states, join(f.tree.dir, 'linked'));
    await f.start('linked');
    for (const [save, text] of [
      [renameOver, 'through the link, renamed over\n'],
      [inPlace, 'through the link, in place\n'],
    ] as const) {
      const runs = f.watch.docs.length;
      save(f.tree.content, text);
      await oneRun(f.watch, runs);
      assert.equal(await readInContainer(engine, f.container, '/srv/sc-watch/content'), text);
    }
  });
});

describe("watch: past the system's limit of file watches", () => {
  const f = fixture();

  it('says so, and goes on watching what it can', async () => {
    // A user namespace of its own with room for 20 watches: the tree takes under 10; then a checkout
    // brings 40 folders, more than are left.
    const limited = ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 20 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'];
    await f.start('salt', { wrap: limited });
    const runs = f.watch.docs.length;
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(f.tree.states, 'w', 'files', `d${i}`));
      writeFileSync(join(f.tree.states, 'w', 'files', `d${i}`, 'f'), `${i}\n`);
    }
    await oneRun(f.watch, runs);
    assert.match(f.watch.stderr(), /note: cannot watch \d+ folders and files \(salt\/w\/files\/d\d+.*\): the system's limit of file watches is reached \(ENOSPC\); changes there are not seen\. Raise it \(sudo sysctl fs\.inotify\.max_user_watches=524288\)/);
    assert.equal(await readInContainer(engine, f.container, '/srv/sc-watch/d39/f'), '39\n');
    // What was watched before still is.
    inPlace(f.tree.content, 'still watched\n');
    await oneRun(f.watch, runs + 1);
    assert.equal(await readInContainer(engine, f.container, '/srv/sc-watch/content'), 'still watched\n');
  });
});

describe('watch: a soak of 100 edits', () => {
  const f = fixture();

  it('in place, renamed over, deleted and recreated in turn: each edit one run with its content, in order', async () => {
    await f.start();
    for (let i = 1; i <= 100; i++) {
      const save = SAVES[i % 3];
      save(f.tree.content, `edit ${i}\n`);
      await f.watch.runs(i + 1, 30_000);
      assert.equal(f.watch.docs.length, i + 1, `edit ${i} (${save.name}) made one run`);
      assert.equal(f.watch.docs[i].retcode, 0, JSON.stringify(f.watch.docs[i].errors));
      assert.equal(await readInContainer(engine, f.container, '/srv/sc-watch/content'), `edit ${i}\n`, `edit ${i} (${save.name})`);
    }
    await sleep(QUIET_MS);
    assert.equal(f.watch.docs.length, 101, '100 edits, 100 runs after the first');
  });
});
