// Result -> source line with the Jinja-tolerant parser (src/sls/locate.ts), on the example state tree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { locateInclude, locateRunError, locateSls, locateState } from '../../src/sls/locate';

const stateRoot = resolve(__dirname, '..', '..', '..', 'examples', 'salt');

describe('locateState', () => {
  it('finds a plain ID in the file that defines the module', () => {
    assert.deepEqual(locateState(stateRoot, 'web', 'web_config'), { file: join(stateRoot, 'web', 'init.sls'), line: 9, column: 0, exact: true });
    assert.deepEqual(locateState(stateRoot, 'common.motd', 'motd'), { file: join(stateRoot, 'common', 'motd.sls'), line: 0, column: 0, exact: true });
  });

  it('maps an ID made by a Jinja loop to the templated key line', () => {
    assert.deepEqual(locateState(stateRoot, 'web', 'web_site_blog'), { file: join(stateRoot, 'web', 'init.sls'), line: 21, column: 0, exact: true });
  });

  it('maps a state a macro made to the line that calls the macro, and one a set name made to its key', () => {
    const formula = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'sls', 'corpus', 'database-formula');
    const manage = join(formula, 'database', 'manage.sls');
    assert.deepEqual(locateState(formula, 'database.manage', 'postgres_database-inventory'), { file: manage, line: 20, column: 0, exact: true });
    assert.deepEqual(locateState(formula, 'database.manage', 'postgres_user-app'), { file: manage, line: 13, column: 0, exact: true });
    const webserver = resolve(formula, '..', 'webserver-formula');
    assert.deepEqual(locateState(webserver, 'webserver.config.modules', 'webserver-config-module-rewrite-reload'), { file: join(webserver, 'webserver', 'config', 'modules.sls'), line: 16, column: 0, exact: true });
  });

  it('falls back to the top of the right file, never another file', () => {
    // app_root is declared in common (included by web): a result says __sls__ web only if web declared it.
    assert.deepEqual(locateState(stateRoot, 'web', 'app_root'), { file: join(stateRoot, 'web', 'init.sls'), line: 0, column: 0, exact: false });
    assert.equal(locateState(stateRoot, 'no.such', 'x'), undefined);
  });

  it('finds quoted IDs, and keys in YAML the parser cannot read', () => {
    const root = mkdtempSync(join(tmpdir(), 'sls-locate-'));
    try {
      mkdirSync(join(root, 'a'));
      writeFileSync(join(root, 'a', 'b.sls'), '"quoted id":\n  test.nop: []\n\nbroken: [\n  other_id:\n    test.nop: []\n');
      assert.deepEqual(locateState(root, 'a.b', 'quoted id'), { file: join(root, 'a', 'b.sls'), line: 0, column: 0, exact: true });
      assert.deepEqual(locateState(root, 'a.b', 'other_id'), { file: join(root, 'a', 'b.sls'), line: 4, column: 2, exact: true });
      // The file changes: the cache must notice.
      writeFileSync(join(root, 'a', 'b.sls'), '\n\nother_id:\n  test.nop: []\n# longer than before\n');
      assert.equal(locateState(root, 'a.b', 'other_id')?.line, 2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('notices a change to a template the file imports (a macro that makes states), the file itself unchanged', () => {
    const root = mkdtempSync(join(tmpdir(), 'sls-locate-'));
    try {
      mkdirSync(join(root, 'app'));
      const macro = (suffix: string) => `{% macro conf(name) %}\n{{ name }}-${suffix}:\n  file.managed:\n    - name: /etc/{{ name }}.conf\n{% endmacro %}\n`;
      writeFileSync(join(root, 'app', 'macros.jinja'), macro('conf'));
      writeFileSync(join(root, 'app', 'init.sls'), "{% from 'app/macros.jinja' import conf %}\n\n{{ conf('web') }}\n");
      const init = join(root, 'app', 'init.sls');
      assert.deepEqual(locateState(root, 'app', 'web-conf'), { file: init, line: 2, column: 0, exact: true });
      writeFileSync(join(root, 'app', 'macros.jinja'), macro('settings'));
      assert.deepEqual(locateState(root, 'app', 'web-settings'), { file: init, line: 2, column: 0, exact: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('locateSls', () => {
  it('turns Salt 1-based render error lines into 0-based lines', () => {
    assert.deepEqual(locateSls(stateRoot, 'web', 3), { file: join(stateRoot, 'web', 'init.sls'), line: 2, column: 0, exact: true });
    assert.deepEqual(locateSls(stateRoot, 'web'), { file: join(stateRoot, 'web', 'init.sls'), line: 0, column: 0, exact: false });
  });
});

describe('locateRunError', () => {
  it('goes to the template Salt names, to the state an error names by ID or by name, else to the SLS', () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-locate-error-'));
    try {
      mkdirSync(join(root, 'app'));
      writeFileSync(join(root, 'app', 'map.jinja'), "{% set app = {} %}\n{% set conf = app.conf %}\n");
      writeFileSync(join(root, 'app', 'init.sls'), 'app-dir:\n  file.directory:\n    - name: /srv/app\n\napp-conf:\n  file.managed:\n    name: /srv/app/app.conf\n');
      const run = { mods: ['app'], highstate: false };
      assert.deepEqual(locateRunError(root, { sls: 'app', file: 'app/map.jinja', line: 2 }, run), { file: join(root, 'app', 'map.jinja'), line: 1, column: 0, exact: true });
      assert.deepEqual(locateRunError(root, { sls: 'app', id: 'app-conf' }, run), { file: join(root, 'app', 'init.sls'), line: 4, column: 0, exact: true });
      assert.deepEqual(locateRunError(root, { sls: 'app', name: '/srv/app' }, run), { file: join(root, 'app', 'init.sls'), line: 0, column: 0, exact: true });
      // A template that is not in the tree (another saltenv's), a state the file lacks: the SLS's top.
      assert.deepEqual(locateRunError(root, { sls: 'app', file: 'other/map.jinja', line: 2 }, run)?.file, join(root, 'app', 'init.sls'));
      assert.deepEqual(locateRunError(root, { sls: 'app', name: '/nowhere' }, run), { file: join(root, 'app', 'init.sls'), line: 0, column: 0, exact: false });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a malformed requisite (Salt names the state and the requisite)', () => {
  it('goes to the requisite line, in the Jinja branch whose declaration of the ID has it', () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-locate-requisite-'));
    try {
      mkdirSync(join(root, 'site'));
      // One ID from two branches, as formulas write "deleted, else managed"; only the second requires.
      const text = [
        '{% for name, site in pillar.get("sites", {}).items() %}',
        "{% set conf_id = 'site_conf_' ~ loop.index0 %}",
        '{% if site.deleted %}',
        '{{ conf_id }}:',
        '  file.absent:',
        '    - name: /etc/site/{{ name }}',
        '{% else %}',
        '{{ conf_id }}:',
        '  file.managed:',
        '    - name: /etc/site/{{ name }}',
        '    - require:',
        '      {%- for k, v in site.requires.items() %}',
        '      - {{ k }}: {{ v }}',
        '      {%- endfor %}',
        '{% endif %}',
        '{% endfor %}',
        '',
      ].join('\n');
      writeFileSync(join(root, 'site', 'init.sls'), text);
      const run = { mods: ['site'], highstate: false };
      const file = join(root, 'site', 'init.sls');
      assert.deepEqual(locateRunError(root, { sls: 'site', id: 'site_conf_0', argument: 'require' }, run), { file, line: 10, column: 6, exact: true });
      // Without the argument: the first declaration that may make the ID, as before.
      assert.deepEqual(locateRunError(root, { sls: 'site', id: 'site_conf_0' }, run), { file, line: 3, column: 0, exact: true });
      // An argument no declaration has: the ID's line.
      assert.deepEqual(locateRunError(root, { sls: 'site', id: 'site_conf_0', argument: 'watch' }, run), { file, line: 3, column: 0, exact: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('locateInclude', () => {
  it('points a missing module at the include that asks for it, through relative includes and top.sls', () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-include-'));
    try {
      mkdirSync(join(root, 'app'));
      writeFileSync(join(root, 'top.sls'), "base:\n  '*':\n    - app\n    - gone.top\n");
      writeFileSync(join(root, 'app', 'init.sls'), 'include:\n  - .config\n\nx:\n  test.nop\n');
      writeFileSync(join(root, 'app', 'config.sls'), 'include:\n  - base:app.db\n  - .missing\n');
      writeFileSync(join(root, 'app', 'db.sls'), 'y:\n  test.nop\n');
      assert.deepEqual(locateInclude(root, { mods: ['app'], highstate: false }, 'app.missing'), { file: join(root, 'app', 'config.sls'), line: 2, column: 4, exact: true });
      assert.deepEqual(locateInclude(root, { mods: [], highstate: true }, 'gone.top'), { file: join(root, 'top.sls'), line: 3, column: 6, exact: true });
      assert.equal(locateInclude(root, { mods: ['app'], highstate: false }, 'never.named'), undefined);
      // `base:app.db` names module app.db in saltenv base.
      assert.deepEqual(locateInclude(root, { mods: ['app'], highstate: false }, 'app.db'), { file: join(root, 'app', 'config.sls'), line: 1, column: 4, exact: true });
      // An existing module keeps the line Salt names; a missing one falls back to its include.
      assert.equal(locateRunError(root, { sls: 'app.db', line: 2 }, { mods: ['app'], highstate: false })?.file, join(root, 'app', 'db.sls'));
      assert.equal(locateRunError(root, { sls: 'app.missing' }, { mods: ['app'], highstate: false })?.line, 2);
      // An include Jinja makes from the pillar (packages-formula's required_states): the one entry that
      // may name it; a dispatch among the module's own sub-modules only for those; two that may: the
      // first one's file, its line unknown.
      mkdirSync(join(root, 'pkgs'));
      writeFileSync(join(root, 'pkgs', 'init.sls'), "include:\n  - .{{ grains['os_family']|lower }}\n  {%- for dep in salt['pillar.get']('pkgs:required', []) %}\n  - {{ dep }}\n  {%- endfor %}\n");
      const pkgs = { mods: ['pkgs'], highstate: false };
      assert.deepEqual(locateInclude(root, pkgs, 'epel'), { file: join(root, 'pkgs', 'init.sls'), line: 3, column: 4, exact: true });
      assert.deepEqual(locateInclude(root, pkgs, 'pkgs.debian'), { file: join(root, 'pkgs', 'init.sls'), line: 0, column: 0, exact: false });
      writeFileSync(join(root, 'pkgs', 'init.sls'), "include:\n  - .{{ grains['os_family']|lower }}\n");
      assert.deepEqual(locateInclude(root, pkgs, 'pkgs.debian'), { file: join(root, 'pkgs', 'init.sls'), line: 1, column: 4, exact: true });
      assert.equal(locateInclude(root, pkgs, 'epel'), undefined);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
