// Where the state tree is (src/sls/roots.ts, for the server and the engine alike) and what runs apply together (tree.ts).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { enclosingSaltFolder, findRoots, formulaName, isIgnoredChange } from '../../src/sls/roots';
import { StateTree } from '../../src/sls/tree';
import { isPillarDataFile } from '../../src/sls/modules';

const corpus = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'sls', 'corpus');

describe('findRoots', () => {
  let work: string;
  const write = (rel: string, text = '') => {
    mkdirSync(dirname(join(work, rel)), { recursive: true });
    writeFileSync(join(work, rel), text);
  };
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'sls-roots-test-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('roots a formula repository at the repository, also when the formula is Salt itself', () => {
    assert.equal(findRoots(join(corpus, 'salt-formula')).stateRoot, join(corpus, 'salt-formula'));
    assert.equal(formulaName(join(corpus, 'salt-formula')), 'salt');
    assert.equal(findRoots(join(corpus, 'webserver-formula')).stateRoot, join(corpus, 'webserver-formula'));
  });

  it('knows a formula by FORMULA, kitchen.yml or pillar.example with <name>/init.sls', () => {
    write('nginx-formula/pillar.example', 'nginx: {}\n');
    write('nginx-formula/nginx/init.sls', 'x:\n  test.nop: []\n');
    assert.equal(formulaName(join(work, 'nginx-formula')), 'nginx', 'the repository name without -formula');
    write('checkout/FORMULA', 'name: salt\n');
    write('checkout/salt/init.sls', 'x:\n  test.nop: []\n');
    assert.equal(findRoots(join(work, 'checkout')).stateRoot, join(work, 'checkout'), "FORMULA's name, whatever the folder's");
  });

  it('keeps salt/ as the state tree of a workspace that is not a formula', () => {
    write('ws/salt/top.sls', 'base: {}\n');
    write('ws/salt/init.sls', 'x:\n  test.nop: []\n');
    write('ws/pillar/top.sls', 'base: {}\n');
    assert.deepEqual(findRoots(join(work, 'ws')), { stateRoot: join(work, 'ws', 'salt'), pillarRoot: join(work, 'ws', 'pillar') });
    write('kitchen-ws/kitchen.yml', 'suites: []\n');
    write('kitchen-ws/salt/web.sls', 'x:\n  test.nop: []\n');
    assert.equal(findRoots(join(work, 'kitchen-ws')).stateRoot, join(work, 'kitchen-ws', 'salt'), 'a kitchen.yml without <name>/init.sls is not a formula');
  });

  it('finds the Salt folder that holds a path, from the path up, as git finds its repository', () => {
    write('up/salt/web/init.sls', 'x:\n  test.nop: []\n');
    write('up/pillar/web.sls', 'port: 80\n');
    write('up/notes/readme.txt', '');
    const up = join(work, 'up');
    assert.equal(enclosingSaltFolder(join(up, 'salt', 'web', 'init.sls')), up, 'a file deep in the state tree');
    assert.equal(enclosingSaltFolder(join(up, 'salt', 'web')), up);
    assert.equal(enclosingSaltFolder(join(up, 'pillar')), up, 'the pillar tree');
    assert.equal(enclosingSaltFolder(up), up, 'the Salt folder itself');
    assert.equal(enclosingSaltFolder(join(up, 'notes')), undefined, 'beside the trees, not in them');
    write('nginx-formula/FORMULA', 'name: nginx\n');
    write('nginx-formula/nginx/map.jinja', '');
    write('nginx-formula/nginx/init.sls', '');
    assert.equal(enclosingSaltFolder(join(work, 'nginx-formula', 'nginx', 'map.jinja')), join(work, 'nginx-formula'), 'a formula repository');
  });
});

describe('StateTree run contexts', () => {
  const files = (tree: StateTree, file: string) =>
    tree
      .runContext(file)
      .map((f) => relative(tree.root, f.file))
      .sort();

  it('applies a file with what includes it and what they include', () => {
    const tree = new StateTree(join(corpus, 'webserver-formula'));
    const sites = files(tree, join(tree.root, 'webserver', 'config', 'sites.sls'));
    for (const rel of ['webserver/init.sls', 'webserver/config/sites.sls', 'webserver/service/running.sls', 'webserver/package/install.sls']) assert.ok(sites.includes(rel), `${rel} in ${sites.join(', ')}`);
    assert.ok(!sites.includes('webserver/clean.sls'), 'clean.sls does not include it');
  });

  it("adds kitchen.yml's state_top and top.sls targets as runs", () => {
    const webserver = new StateTree(join(corpus, 'webserver-formula'));
    assert.ok(files(webserver, join(webserver.root, 'webserver', 'config', 'snippets.sls')).includes('webserver/config/file.sls'));
    const site = new StateTree(join(corpus, 'site', 'salt'));
    assert.deepEqual(files(site, join(site.root, 'web.sls')), ['base/motd.sls', 'web.sls']);
    // A state_top's targets run together; `states.unit_override` comes from the path dependency
    // `{name: states, path: ./test/salt}`, so it is this tree's test/salt/states/unit_override.sls.
    const helper = files(webserver, join(webserver.root, 'test', 'salt', 'states', 'unit_override.sls'));
    for (const rel of ['test/salt/states/unit_override.sls', 'webserver/service/running.sls', 'webserver/config/snippets.sls']) assert.ok(helper.includes(rel), `${rel} in ${helper.join(', ')}`);
  });

  it('follows includes Jinja makes to the modules they may name', () => {
    const database = new StateTree(join(corpus, 'database-formula'));
    assert.ok(files(database, join(database.root, 'database', 'server', 'image.sls')).includes('database/server/config.sls'), 'include: {{ includes|yaml }}');
    const salt = new StateTree(join(corpus, 'salt-formula'));
    assert.ok(files(salt, join(salt.root, 'salt', 'minion.sls')).includes('salt/pkgrepo/debian.sls'), "- .{{ grains['os_family'] | lower }}");
  });

  it('reads no pillar folder as states', () => {
    const tree = new StateTree(join(corpus, 'webserver-formula'));
    assert.ok(!tree.all().some((f) => f.file.includes(`${join('test', 'salt', 'pillar')}`)));
    assert.equal(tree.get(join(tree.root, 'test', 'salt', 'pillar', 'webserver.sls')), undefined);
    // Nor when a watcher says it changed on disk.
    tree.reload(join(tree.root, 'test', 'salt', 'pillar', 'webserver.sls'));
    assert.ok(!tree.all().some((f) => f.file.includes(`${join('test', 'salt', 'pillar')}`)));
  });

  it('reads no pillar_top.sls as a top file or states', () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-tree-pillar-top-'));
    try {
      writeFileSync(join(root, 'top.sls'), "base:\n  '*':\n    - web\n");
      writeFileSync(join(root, 'web.sls'), 'web-pkg:\n  pkg.installed: []\n');
      writeFileSync(join(root, 'pillar_top.sls'), "base:\n  '*':\n    - web_pillar\n");
      const tree = new StateTree(root);
      assert.deepEqual(tree.all().map((f) => basename(f.file)).sort(), ['top.sls', 'web.sls']);
      tree.reload(join(root, 'pillar_top.sls'));
      assert.equal(tree.get(join(root, 'pillar_top.sls')), undefined);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('changes that never matter to a run (watch, the editor’s reloads)', () => {
  it("ignores version control, what a run never ships, and what editors write beside a file while saving it, never the trees' own files", () => {
    const editors = ['.git/index', 'salt/.git/index', 'salt/.vscode/settings.json', 'salt/.idea/workspace.xml', '.kitchen/default.yml', 'salt/.venv/lib/x.py', 'salt/node_modules/a/b.js', 'salt/web/.init.sls.swp', 'salt/web/.init.sls.swo', 'salt/web/4913', 'salt/web/init.sls~', 'salt/web/#init.sls#', 'salt/web/.#init.sls', 'salt/web/init.sls___jb_tmp___', 'salt/web/init.sls___jb_old___', 'salt/web/.goutputstream-XK3J2Z', 'salt/web/init.sls.kate-swp', 'salt/_modules/__pycache__/x.pyc'];
    for (const path of editors) assert.ok(isIgnoredChange(path), path);
    const trees = ['salt/web/init.sls', 'salt/web/map.jinja', 'salt/web/files/site.conf', 'pillar/web.sls', 'salt/web/files/swap.swap', 'salt/web/files/4913.conf', 'salt/web/files/a#b', 'salt/_modules/mine.py', 'salt/.gitkeep', 'salt/web/files/x.git', 'salt/kitchen/init.sls'];
    for (const path of trees) assert.ok(!isIgnoredChange(path), path);
  });
});

describe('pillar data kept in a state tree', () => {
  it("a kitchen suite's pillar folder and a pillar top file hold pillar data; states, and a state named pillar, do not", () => {
    const root = '/src/nginx-formula';
    assert.equal(isPillarDataFile(root, `${root}/test/salt/pillar/default.sls`), true);
    assert.equal(isPillarDataFile(root, `${root}/test/salt/default/pillar/nginx.sls`), true);
    assert.equal(isPillarDataFile(root, `${root}/pillars/web.sls`), true);
    assert.equal(isPillarDataFile(root, `${root}/_pillar/known_hosts.sls`), true, "Salt's folder for pillar modules");
    assert.equal(isPillarDataFile(root, `${root}/pillar_top.sls`), true);
    assert.equal(isPillarDataFile(root, `${root}/nginx/init.sls`), false);
    assert.equal(isPillarDataFile(root, `${root}/nginx/pillar.sls`), false, 'a module named pillar is a state module');
    assert.equal(isPillarDataFile(root, '/elsewhere/pillar/web.sls'), false, 'outside the tree: not its data');
  });
});

describe('who includes a file (the entries check --container renders from)', () => {
  it('an include entry, and a templated one among its own sub-modules (OS dispatch), not a wide templated one', () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-includers-'));
    try {
      const put = (file: string, text: string) => {
        mkdirSync(dirname(join(root, file)), { recursive: true });
        writeFileSync(join(root, file), text);
      };
      put('app/init.sls', "include:\n  - .config\n  - .repo\n  {%- for dep in salt['pillar.get']('app:required', []) %}\n  - {{ dep }}\n  {%- endfor %}\n");
      put('app/config.sls', 'app_config:\n  test.nop: []\n');
      put('app/repo/init.sls', "include:\n  - .{{ grains['os_family']|lower }}\n");
      put('app/repo/debian.sls', 'repo_debian:\n  test.nop: []\n');
      put('app/repo/redhat.sls', 'repo_redhat:\n  test.nop: []\n');
      put('app/extras.sls', "{% for m in salt['pillar.get']('extras', []) %}\ninclude:\n  - app.{{ m }}\n{% endfor %}\n");
      put('app/tool.sls', 'tool:\n  test.nop: []\n');
      const tree = new StateTree(root);
      const by = (file: string) => {
        const { naming, dispatching } = tree.includersOf(join(root, file));
        return { naming: naming.map((f) => relative(root, f)).sort(), dispatching: dispatching.map((f) => relative(root, f)).sort() };
      };
      assert.deepEqual(by('app/config.sls'), { naming: ['app/init.sls'], dispatching: [] });
      assert.deepEqual(by('app/repo/redhat.sls'), { naming: [], dispatching: ['app/repo/init.sls'] }, 'OS dispatch among its own sub-modules');
      assert.deepEqual(by('app/tool.sls'), { naming: [], dispatching: [] }, 'app.{{ m }} in app/extras.sls may name any module: not an includer');
      assert.deepEqual(by('app/init.sls'), { naming: [], dispatching: [] });
      assert.deepEqual(by('app/repo/debian.sls'), { naming: [], dispatching: ['app/repo/init.sls'] }, '`- {{ dep }}` in app/init.sls may name any module: no dispatch');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
