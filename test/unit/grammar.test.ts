// Scope tests of the SLS and Jinja TextMate grammars (syntaxes/), tokenized by vscode-textmate with the
// Oniguruma regex engine as VS Code does, on a corpus of tricky SLS.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = resolve(__dirname, '..', '..', '..');
const syntaxes = join(root, 'syntaxes');
const corpus = join(root, 'test', 'fixtures', 'sls', 'grammar');
const grammarFiles: Record<string, string> = {
  'source.sls': 'sls.tmLanguage.json',
  'source.jinja': 'jinja.tmLanguage.json',
  'jinja.injection.sls': 'sls-jinja.injection.tmLanguage.json',
};

interface Token {
  text: string;
  scopes: string[];
}

let registry: textmate.Registry;

async function tokenize(scope: string, text: string): Promise<Token[][]> {
  const grammar = await registry.loadGrammar(scope);
  assert.ok(grammar, `grammar ${scope}`);
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The scopes of the token holding `needle` on the line that contains `lineMark` (the nth match). */
function scopesOf(lines: Token[][], source: string, lineMark: string, needle: string): string[] {
  const index = source.split('\n').findIndex((l) => l.includes(lineMark));
  assert.ok(index >= 0, `no line with ${lineMark}`);
  const tokens = lines[index];
  let offset = 0;
  const at = source.split('\n')[index].indexOf(needle);
  assert.ok(at >= 0, `${needle} not on line ${index}`);
  for (const token of tokens) {
    if (at >= offset && at < offset + token.text.length) return token.scopes;
    offset += token.text.length;
  }
  assert.fail(`no token at ${needle}`);
}

const has = (scopes: string[], scope: string) => scopes.some((s) => s === scope || s.startsWith(`${scope}.`));

describe('SLS grammar', () => {
  let source: string;
  let lines: Token[][];
  const at = (lineMark: string, needle = lineMark) => scopesOf(lines, source, lineMark, needle);

  before(async () => {
    const wasm = readFileSync(join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
    registry = new textmate.Registry({
      onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
      loadGrammar: async (scopeName) => {
        const file = grammarFiles[scopeName];
        return file ? textmate.parseRawGrammar(readFileSync(join(syntaxes, file), 'utf8'), join(syntaxes, file)) : null;
      },
      getInjections: (scopeName) => (scopeName === 'source.sls' ? ['jinja.injection.sls'] : undefined),
    });
    source = readFileSync(join(corpus, 'tricky.sls'), 'utf8');
    lines = await tokenize('source.sls', source);
  });

  it('scopes Jinja statements, their keywords and whitespace control', () => {
    assert.ok(has(at('{% for site', '{%'), 'punctuation.definition.tag.begin.jinja'));
    assert.ok(has(at('{% for site', 'for'), 'keyword.control.jinja'));
    assert.ok(has(at('{% for site', 'pillar'), 'variable.other.jinja'));
    assert.ok(has(at('{% for site', "'sites'"), 'string.quoted.single.jinja'));
    const endfor = at('{%- endfor', '{%-');
    assert.ok(has(endfor, 'punctuation.definition.tag.begin.jinja'), 'whitespace control belongs to the tag');
    assert.ok(has(at('{%- endfor', 'endfor'), 'keyword.control.jinja'));
  });

  it('scopes a key made by Jinja as a key, with the Jinja inside it', () => {
    assert.ok(has(at('web_site_{{', 'web_site_'), 'entity.name.tag.yaml'));
    const site = at('web_site_{{', 'site }}');
    assert.ok(has(site, 'variable.other.jinja') && has(site, 'meta.embedded.expression.jinja'), site.join(' '));
    assert.ok(has(at('web_site_{{', ':'), 'punctuation.separator.key-value.mapping.yaml'));
    // A key that starts with Jinja.
    assert.ok(has(at('{{ web.id }}_extra', 'web'), 'variable.other.jinja'));
    assert.ok(has(at('{{ web.id }}_extra', '_extra'), 'entity.name.tag.yaml'));
    assert.ok(has(at('file.managed'), 'entity.name.tag.yaml'));
    // A quoted key with Jinja.
    const quoted = at('"quoted {{ name', 'name }}');
    assert.ok(has(quoted, 'entity.name.tag.yaml') && has(quoted, 'variable.other.jinja'), quoted.join(' '));
    assert.ok(has(at('"quoted {{ name', 'key"'), 'entity.name.tag.yaml'));
  });

  it('highlights Jinja inside quoted strings (the injection grammar)', () => {
    const inString = at('/srv/{{ site', 'site |');
    assert.ok(has(inString, 'string.quoted.double.yaml') && has(inString, 'variable.other.jinja'), inString.join(' '));
    assert.ok(has(at('/srv/{{ site', 'lower'), 'support.function.filter.jinja'));
    assert.ok(has(at('/srv/{{ site', '/index.html'), 'string.quoted.double.yaml'));
    assert.ok(!has(at('/srv/{{ site', '/index.html'), 'meta.embedded.expression.jinja'), 'the string resumes after the tag');
  });

  it('highlights Jinja inside YAML comments and block scalars', () => {
    const inComment = at('# a YAML comment', 'pillar');
    assert.ok(has(inComment, 'comment.line.number-sign.yaml') && has(inComment, 'variable.other.jinja'), inComment.join(' '));
    const trailing = at('echo {{ grains', 'comment }}');
    assert.ok(has(trailing, 'comment.line.number-sign.yaml') && has(trailing, 'variable.other.jinja'), trailing.join(' '));
    const inBlock = at('<h1>{{ site }}', 'site }}');
    assert.ok(has(inBlock, 'string.unquoted.block.yaml') && has(inBlock, 'variable.other.jinja'), inBlock.join(' '));
    assert.ok(has(at('plain line'), 'string.unquoted.block.yaml'));
    assert.ok(!has(at('- require:', 'require'), 'string.unquoted.block.yaml'), 'the block scalar ends with its indentation');
  });

  it('scopes Jinja comments as comments, not the expressions in them', () => {
    const scopes = at('{# a Jinja comment', 'not_an_expression');
    assert.ok(has(scopes, 'comment.block.jinja'));
    assert.ok(!has(scopes, 'variable.other.jinja'));
  });

  it('keeps raw blocks raw', () => {
    const scopes = at('{% raw %}', 'not_jinja');
    assert.ok(has(scopes, 'string.unquoted.raw.jinja'), scopes.join(' '));
    assert.ok(!has(scopes, 'variable.other.jinja'));
    assert.ok(has(at('{% raw %}', 'endraw'), 'keyword.control.raw.jinja'));
  });

  it('scopes YAML values: salt:// URLs, quoted, booleans, numbers, list items', () => {
    assert.ok(has(at('salt://web/files', 'salt://'), 'markup.underline.link.salt-url.sls'));
    assert.ok(has(at("'0644'", '0644'), 'string.quoted.single.yaml'));
    assert.ok(has(at('makedirs: True', 'True'), 'constant.language.yaml'));
    assert.ok(has(at('retries: 3', '3'), 'constant.numeric.yaml'));
    assert.ok(has(at('    - installed', '-'), 'punctuation.definition.block.sequence.item.yaml'));
    assert.ok(has(at('#!jinja|yaml'), 'meta.shebang.renderer.sls'));
  });
});

describe('Jinja template grammar', () => {
  it('scopes tags in a plain-text template and leaves the text alone', async () => {
    const source = readFileSync(join(corpus, 'template.jinja'), 'utf8');
    const lines = await tokenize('source.jinja', source);
    const at = (mark: string, needle = mark) => scopesOf(lines, source, mark, needle);
    assert.ok(has(at('{%- if port', 'if'), 'keyword.control.jinja'));
    assert.ok(has(at('{%- if port', '1024'), 'constant.numeric.jinja'));
    assert.ok(has(at('listen {{', 'int'), 'support.function.filter.jinja'));
    assert.deepEqual(at('listen {{', 'listen'), ['source.jinja']);
    assert.ok(has(at('{# note #}', 'note'), 'comment.block.jinja'));
    assert.deepEqual(at('# Generated', 'Generated'), ['source.jinja'], 'a # line is text in a template');
  });
});
