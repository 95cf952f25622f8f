/**
 * Jinja's syntax errors, as Jinja itself reports them: a port of jinja2's lexer (lexer.py) and parser
 * (parser.py, 3.1) with the extensions Salt's environment loads (do, loopcontrols, Salt's
 * SerializerExtension: load_yaml/load_json/load_text ... endload, import_yaml/import_json/import_text,
 * profile ... endprofile). Same tokens, same decisions, same messages, same line: the line Jinja's
 * TemplateSyntaxError carries. Jinja stops at the first error, so there is at most one.
 * Nothing is rendered and no node tree is kept beyond what the parser's own checks need (assignment
 * targets, `call` blocks, required blocks). test/jinja/differential.py checks it against jinja2.
 */

export interface JinjaSyntaxError {
  /** The line Jinja names (1-based), as Salt's "Jinja syntax error: ...; line N" does. */
  line: number;
  /** Jinja's message, word for word. */
  message: string;
  /** Where in the text the error is (the token Jinja was looking at), and its length. */
  offset: number;
  length: number;
  /** 1-based column of offset (Jinja gives none; this is the token's). */
  column: number;
  /**
   * For a block left open at the end of the template: the innermost open block's tag (offset of its
   * `{%`, its 1-based line) and the end of the template, where Jinja gave up.
   */
  block?: { tag: string; offset: number; line: number };
  related?: { offset: number; line: number; message: string };
}
import { lastAtOrBefore } from './render';

// ------------------------------------------------------------------------------------------------ lexer

interface Token {
  type: string;
  value: string;
  lineno: number;
  /** Offset in the (normalized) source; end exclusive. */
  start: number;
  end: number;
}

class SyntaxFailure extends Error {
  constructor(
    message: string,
    readonly lineno: number,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
  }
}

const OPERATORS: Record<string, string> = {
  '+': 'add',
  '-': 'sub',
  '/': 'div',
  '//': 'floordiv',
  '*': 'mul',
  '%': 'mod',
  '**': 'pow',
  '~': 'tilde',
  '[': 'lbracket',
  ']': 'rbracket',
  '(': 'lparen',
  ')': 'rparen',
  '{': 'lbrace',
  '}': 'rbrace',
  '==': 'eq',
  '!=': 'ne',
  '>': 'gt',
  '>=': 'gteq',
  '<': 'lt',
  '<=': 'lteq',
  '=': 'assign',
  '.': 'dot',
  ':': 'colon',
  '|': 'pipe',
  ',': 'comma',
  ';': 'semicolon',
};
const REVERSE_OPERATORS: Record<string, string> = Object.fromEntries(Object.entries(OPERATORS).map(([k, v]) => [v, k]));
const TOKEN_DESCRIPTIONS: Record<string, string> = {
  comment_begin: 'begin of comment',
  comment_end: 'end of comment',
  comment: 'comment',
  linecomment: 'comment',
  block_begin: 'begin of statement block',
  block_end: 'end of statement block',
  variable_begin: 'begin of print statement',
  variable_end: 'end of print statement',
  linestatement_begin: 'begin of line statement',
  linestatement_end: 'end of line statement',
  data: 'template data / text',
  eof: 'end of template',
};

const describeType = (type: string) => REVERSE_OPERATORS[type] ?? TOKEN_DESCRIPTIONS[type] ?? type;
const describeToken = (token: Token) => (token.type === 'name' ? token.value : describeType(token.type));
function describeExpr(expr: string): string {
  const colon = expr.indexOf(':');
  if (colon >= 0) {
    const type = expr.slice(0, colon);
    if (type === 'name') return expr.slice(colon + 1);
    return describeType(type);
  }
  return describeType(expr);
}

/** Python's repr() of a str, as Jinja's messages print names and token descriptions. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xad) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code > 0xa0 && ch !== ' ' && /[\p{C}\p{Z}]/u.test(ch)) out += code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + quote;
}

// The tag rules (lexer.py), as sticky regular expressions.
const WHITESPACE = /\s+/y;
const FLOAT = /(?<!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+-]?(\d+_)*\d+|\.(\d+_)*\d+)/iy;
const INTEGER = /(0b(_?[0-1])+|0o(_?[0-7])+|0x(_?[\da-f])+|[1-9](_?\d)*|0(_?0)*)/iy;
// jinja2's _identifier pattern: \w and the marks Python allows in identifiers.
const NAME = /[\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}\u00b7\u0387\u1369-\u1371\u19da\u2118\u212e\u309b\u309c]+/uy;
const IDENTIFIER = /^[\p{L}\p{Nl}_\u2118\u212e\u309b\u309c][\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}\u00b7\u0387\u1369-\u1371\u19da\u2118\u212e\u309b\u309c]*$/u;
const STRING = /('([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)")/sy;
const OPERATOR = /\/\/|\*\*|==|!=|>=|<=|[+\-/*%~[\](){}><=.:|,;]/y;
const BLOCK_END = /\+%\}|-%\}\s*|%\}/y;
const VARIABLE_END = /-\}\}\s*|\}\}/y;
const RAW_BEGIN = /\{%[-+]?\s*raw\s*(?:-%\}\s*|%\})/y;
const RAW_END = /\{%[-+]?\s*endraw\s*(?:\+%\}|-%\}\s*|%\})/g;
const COMMENT_END = /\+#\}|-#\}\s*|#\}/g;

function at(re: RegExp, source: string, pos: number): string | undefined {
  re.lastIndex = pos;
  const m = re.exec(source);
  return m ? m[0] : undefined;
}

/** Python's unicode-escape decoding of a string literal's body: the message Jinja reports when it fails. */
function escapeProblem(body: string): string | undefined {
  if (!body.includes('\\')) return undefined;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') continue;
    const next = body[i + 1];
    const hex = (n: number) => /^[0-9a-fA-F]+$/.test(body.slice(i + 2, i + 2 + n)) && body.slice(i + 2, i + 2 + n).length === n;
    if (next === 'x' && !hex(2)) return 'truncated \\xXX escape';
    if (next === 'u' && !hex(4)) return 'truncated \\uXXXX escape';
    if (next === 'U') {
      if (!hex(8)) return 'truncated \\UXXXXXXXX escape';
      if (parseInt(body.slice(i + 2, i + 10), 16) > 0x10ffff) return 'illegal Unicode character';
    }
    if (next === 'N') {
      const m = /^\{([^}]*)\}/.exec(body.slice(i + 2));
      if (!m || !m[1]) return 'malformed \\N character escape';
      // Unicode character names are not known here: a named escape is taken as valid.
    }
    i++;
  }
  return undefined;
}

interface Lexed {
  tokens: Token[];
  /** The error the lexer raises when the parser asks for the token after the last one. */
  error?: SyntaxFailure;
}

/** jinja2's Lexer.tokeniter + wrap over a normalized source (newlines as \n, the final newline dropped). */
function tokenize(source: string, lineOf: (offset: number) => number): Lexed {
  const tokens: Token[] = [];
  const push = (type: string, value: string, start: number, end: number) => tokens.push({ type, value, lineno: lineOf(start), start, end });
  const fail = (message: string, start: number, end = start + 1): Lexed => ({ tokens, error: new SyntaxFailure(message, lineOf(start), start, end) });
  const length = source.length;
  let pos = 0;
  while (pos < length) {
    // root: text up to the next tag.
    let open = source.indexOf('{', pos);
    let kind: 'raw' | 'variable' | 'comment' | 'block' | undefined;
    let opener = '';
    while (open >= 0) {
      const c = source[open + 1];
      if (c === '%') {
        const raw = at(RAW_BEGIN, source, open);
        kind = raw ? 'raw' : 'block';
        opener = raw ?? '{%';
      } else if (c === '{') {
        kind = 'variable';
        opener = '{{';
      } else if (c === '#') {
        kind = 'comment';
        opener = '{#';
      }
      if (kind) break;
      open = source.indexOf('{', open + 1);
    }
    if (!kind) {
      push('data', source.slice(pos), pos, length);
      break;
    }
    if (kind !== 'raw' && (source[open + 2] === '-' || source[open + 2] === '+')) opener += source[open + 2];
    let text = source.slice(pos, open);
    // `{%-` strips the whitespace before the tag (lines still count where they are).
    if (opener.endsWith('-') || (kind === 'raw' && /^\{%-/.test(opener))) text = text.replace(/\s+$/, '');
    if (text) push('data', text, pos, pos + text.length);
    pos = open + opener.length;

    if (kind === 'raw') {
      RAW_END.lastIndex = pos;
      const m = RAW_END.exec(source);
      if (!m) return pos < length ? fail('Missing end of raw directive', pos) : { tokens };
      let body = source.slice(pos, m.index);
      if (/^\{%-/.test(m[0])) body = body.replace(/\s+$/, '');
      if (body) push('data', body, pos, pos + body.length);
      pos = m.index + m[0].length;
      continue;
    }
    if (kind === 'comment') {
      COMMENT_END.lastIndex = pos;
      const m = COMMENT_END.exec(source);
      if (!m) return pos < length ? fail('Missing end of comment tag', pos) : { tokens };
      pos = m.index + m[0].length;
      continue;
    }
    push(kind === 'block' ? 'block_begin' : 'variable_begin', opener, open, pos);
    const endRule = kind === 'block' ? BLOCK_END : VARIABLE_END;
    const endType = kind === 'block' ? 'block_end' : 'variable_end';
    const balancing: string[] = [];
    for (;;) {
      if (pos >= length) return { tokens };
      let m: string | undefined;
      if (!balancing.length && (m = at(endRule, source, pos)) !== undefined) {
        push(endType, m, pos, pos + m.length);
        pos += m.length;
        break;
      }
      if ((m = at(WHITESPACE, source, pos)) !== undefined) {
        pos += m.length;
        continue;
      }
      if ((m = at(FLOAT, source, pos)) !== undefined) push('float', m, pos, pos + m.length);
      else if ((m = at(INTEGER, source, pos)) !== undefined) push('integer', m, pos, pos + m.length);
      else if ((m = at(NAME, source, pos)) !== undefined) {
        if (!IDENTIFIER.test(m)) return fail('Invalid character in identifier', pos, pos + m.length);
        push('name', m, pos, pos + m.length);
      } else if ((m = at(STRING, source, pos)) !== undefined) {
        const problem = escapeProblem(m.slice(1, -1));
        if (problem) return fail(problem, pos, pos + m.length);
        push('string', m, pos, pos + m.length);
      } else if ((m = at(OPERATOR, source, pos)) !== undefined) {
        if (m === '{') balancing.push('}');
        else if (m === '(') balancing.push(')');
        else if (m === '[') balancing.push(']');
        else if (m === '}' || m === ')' || m === ']') {
          const expected = balancing.pop();
          if (!expected) return fail(`unexpected '${m}'`, pos);
          if (expected !== m) return fail(`unexpected '${m}', expected '${expected}'`, pos);
        }
        push(OPERATORS[m], m, pos, pos + m.length);
      } else return fail(`unexpected char ${pyRepr(source[pos])} at ${pos}`, pos);
      pos += m.length;
    }
  }
  return { tokens };
}

class TokenStream {
  current: Token;
  private readonly pushed: Token[] = [];
  private index = 0;

  constructor(private readonly lexed: Lexed) {
    this.current = { type: 'initial', value: '', lineno: 1, start: 0, end: 0 };
    this.next();
  }

  get more(): boolean {
    return this.pushed.length > 0 || this.current.type !== 'eof';
  }

  next(): Token {
    const rv = this.current;
    if (this.pushed.length) this.current = this.pushed.shift()!;
    else if (this.current.type !== 'eof') {
      if (this.index < this.lexed.tokens.length) this.current = this.lexed.tokens[this.index++];
      else if (this.lexed.error) throw this.lexed.error;
      else this.current = { type: 'eof', value: '', lineno: this.current.lineno, start: this.current.end, end: this.current.end };
    }
    return rv;
  }

  look(): Token {
    const old = this.next();
    const result = this.current;
    this.pushed.push(result);
    this.current = old;
    return result;
  }

  skip(n = 1) {
    for (let i = 0; i < n; i++) this.next();
  }

  nextIf(expr: string): Token | undefined {
    return test(this.current, expr) ? this.next() : undefined;
  }

  skipIf(expr: string): boolean {
    return this.nextIf(expr) !== undefined;
  }

  expect(expr: string): Token {
    if (!test(this.current, expr)) {
      const described = describeExpr(expr);
      if (this.current.type === 'eof') throw failAt(`unexpected end of template, expected ${pyRepr(described)}.`, this.current);
      throw failAt(`expected token ${pyRepr(described)}, got ${pyRepr(describeToken(this.current))}`, this.current);
    }
    return this.next();
  }
}

function test(token: Token, expr: string): boolean {
  if (token.type === expr) return true;
  const colon = expr.indexOf(':');
  return colon >= 0 && token.type === expr.slice(0, colon) && token.value === expr.slice(colon + 1);
}
const testAny = (token: Token, exprs: readonly string[]) => exprs.some((e) => test(token, e));
const failAt = (message: string, token: Token, lineno = token.lineno) => new SyntaxFailure(message, lineno, token.start, Math.max(token.end, token.start + 1));

// ----------------------------------------------------------------------------------------------- parser

/** What the parser's own checks need of a node: Jinja's class name, its line, where it is. */
interface Node {
  type: string;
  lineno: number;
  token: Token;
  name?: string;
  items?: Node[];
}
/** A body's node: template data (with its text), an output of expressions, or a statement. */
type BodyNode = { kind: 'output'; nodes: ({ data: string } | Node)[] } | { kind: 'statement' };

const STATEMENT_KEYWORDS = new Set(['for', 'if', 'block', 'extends', 'print', 'macro', 'include', 'from', 'import', 'set', 'with', 'autoescape']);
const COMPARE_OPERATORS = new Set(['eq', 'ne', 'lt', 'lteq', 'gt', 'gteq']);
const MATH1: Record<string, string> = { add: 'Add', sub: 'Sub' };
const MATH2: Record<string, string> = { mul: 'Mul', div: 'Div', floordiv: 'FloorDiv', mod: 'Mod' };
const POW: Record<string, string> = { pow: 'Pow' };
const CONSTANT_NAMES = new Set(['true', 'false', 'none', 'True', 'False', 'None']);
const SALT_LOADERS = new Set(['load_yaml', 'load_json', 'load_text']);
const SALT_IMPORTERS = new Set(['import_yaml', 'import_json', 'import_text']);
const EXTENSION_TAGS = new Set(['do', 'break', 'continue', ...SALT_LOADERS, ...SALT_IMPORTERS, 'profile']);

function canAssign(node: Node): boolean {
  if (node.type === 'Name') return !CONSTANT_NAMES.has(node.name!);
  if (node.type === 'NSRef') return true;
  if (node.type === 'Tuple') return node.items!.every(canAssign);
  return false;
}

class Parser {
  readonly stream: TokenStream;
  private readonly tagStack: { name: string; token: Token }[] = [];
  private readonly endTokenStack: (readonly string[])[] = [];

  constructor(lexed: Lexed) {
    this.stream = new TokenStream(lexed);
  }

  /** The current token's type (a call, so that TypeScript does not narrow it across the stream's moves). */
  private type(): string {
    return this.stream.current.type;
  }

  fail(message: string, lineno?: number, token = this.stream.current): never {
    throw failAt(message, token, lineno ?? this.stream.current.lineno);
  }

  private failUtEof(name: string | undefined, endTokenStack: (readonly string[])[], lineno: number, token: Token): never {
    const expected = new Set<string>();
    for (const exprs of endTokenStack) for (const e of exprs) expected.add(describeExpr(e));
    const currentlyLooking = endTokenStack.length ? endTokenStack[endTokenStack.length - 1].map((e) => pyRepr(describeExpr(e))).join(' or ') : undefined;
    const message = [name === undefined ? 'Unexpected end of template.' : `Encountered unknown tag ${pyRepr(name)}.`];
    if (currentlyLooking) {
      if (name !== undefined && expected.has(name)) message.push(`You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for ${currentlyLooking}.`);
      else message.push(`Jinja was looking for the following tags: ${currentlyLooking}.`);
    }
    const innermost = this.tagStack[this.tagStack.length - 1];
    if (innermost) message.push(`The innermost block that needs to be closed is ${pyRepr(innermost.name)}.`);
    const error = failAt(message.join(' '), token, lineno);
    if (name === undefined && innermost) (error as SyntaxFailure & { block?: Token }).block = innermost.token;
    throw error;
  }

  private failEof(endTokens: readonly string[]): never {
    this.failUtEof(undefined, [...this.endTokenStack, endTokens], this.stream.current.lineno, this.stream.current);
  }

  parseStatement(): BodyNode[] {
    const token = this.stream.current;
    if (token.type !== 'name') this.fail('tag name expected', token.lineno, token);
    const name = token.value;
    if (!STATEMENT_KEYWORDS.has(name) && name !== 'call' && name !== 'filter' && !EXTENSION_TAGS.has(name)) {
      this.failUtEof(name, this.endTokenStack, token.lineno, token);
    }
    this.tagStack.push({ name, token });
    try {
      switch (name) {
        case 'for':
          return this.parseFor();
        case 'if':
          return this.parseIf();
        case 'block':
          return this.parseBlock();
        case 'extends':
        case 'include':
          return this.parseInclude(name);
        case 'print':
          return this.parsePrint();
        case 'macro':
          return this.parseMacro();
        case 'from':
          return this.parseFrom();
        case 'import':
          return this.parseImport();
        case 'set':
          return this.parseSet();
        case 'with':
          return this.parseWith();
        case 'autoescape':
          this.stream.next();
          this.parseExpression();
          this.parseStatements(['name:endautoescape'], true);
          return [{ kind: 'statement' }];
        case 'call':
          return this.parseCallBlock();
        case 'filter':
          this.stream.next();
          this.parseFilter(true);
          this.parseStatements(['name:endfilter'], true);
          return [{ kind: 'statement' }];
        case 'do':
          this.stream.next();
          this.parseTuple();
          return [{ kind: 'statement' }];
        case 'break':
        case 'continue':
          this.stream.next();
          return [{ kind: 'statement' }];
        case 'profile':
          this.stream.next();
          this.stream.expect('name:as');
          this.parseExpression();
          this.parseStatements(['name:endprofile'], true);
          return [{ kind: 'statement' }];
        default:
          if (SALT_LOADERS.has(name)) {
            this.stream.next();
            this.stream.expect('name:as');
            this.parseAssignTarget();
            this.parseStatements(['name:endload'], true);
            return [{ kind: 'statement' }, { kind: 'statement' }];
          }
          // import_yaml/json/text: Jinja's import statement under another name.
          return this.parseImport();
      }
    } finally {
      this.tagStack.pop();
    }
  }

  parseStatements(endTokens: readonly string[], dropNeedle = false): BodyNode[] {
    this.stream.skipIf('colon');
    this.stream.expect('block_end');
    const result = this.subparse(endTokens);
    if (this.type() === 'eof') this.failEof(endTokens);
    if (dropNeedle) this.stream.next();
    return result;
  }

  private parseSet(): BodyNode[] {
    this.stream.next();
    this.parseAssignTarget(true, false, undefined, true);
    if (this.stream.skipIf('assign')) {
      this.parseTuple();
      return [{ kind: 'statement' }];
    }
    this.parseFilter(false);
    this.parseStatements(['name:endset'], true);
    return [{ kind: 'statement' }];
  }

  private parseFor(): BodyNode[] {
    this.stream.expect('name:for');
    this.parseAssignTarget(true, false, ['name:in']);
    this.stream.expect('name:in');
    this.parseTuple(false, false, ['name:recursive']);
    if (this.stream.skipIf('name:if')) this.parseExpression();
    this.stream.skipIf('name:recursive');
    this.parseStatements(['name:endfor', 'name:else']);
    if (this.stream.next().value !== 'endfor') this.parseStatements(['name:endfor'], true);
    return [{ kind: 'statement' }];
  }

  private parseIf(): BodyNode[] {
    this.stream.expect('name:if');
    for (;;) {
      this.parseTuple(false, false);
      this.parseStatements(['name:elif', 'name:else', 'name:endif']);
      const token = this.stream.next();
      if (test(token, 'name:elif')) continue;
      if (test(token, 'name:else')) this.parseStatements(['name:endif'], true);
      break;
    }
    return [{ kind: 'statement' }];
  }

  private parseWith(): BodyNode[] {
    this.stream.next();
    let targets = 0;
    while (this.type() !== 'block_end') {
      if (targets) this.stream.expect('comma');
      this.parseAssignTarget();
      targets++;
      this.stream.expect('assign');
      this.parseExpression();
    }
    this.parseStatements(['name:endwith'], true);
    return [{ kind: 'statement' }];
  }

  private parseBlock(): BodyNode[] {
    this.stream.next();
    const name = this.stream.expect('name').value;
    this.stream.skipIf('name:scoped');
    const required = this.stream.skipIf('name:required');
    if (this.type() === 'sub') {
      this.fail('Block names in Jinja have to be valid Python identifiers and may not contain hyphens, use an underscore instead.');
    }
    const body = this.parseStatements(['name:endblock'], true);
    if (required) {
      for (const node of body) {
        if (node.kind !== 'output' || node.nodes.some((n) => !('data' in n) || !/^\s+$/.test(n.data))) this.fail('Required blocks can only contain comments or whitespace');
      }
    }
    this.stream.skipIf(`name:${name}`);
    return [{ kind: 'statement' }];
  }

  private parseImportContext() {
    if (testAny(this.stream.current, ['name:with', 'name:without']) && test(this.stream.look(), 'name:context')) {
      this.stream.next();
      this.stream.skip();
    }
  }

  /** `extends` and `include` (only include takes `ignore missing` and a context). */
  private parseInclude(name: string): BodyNode[] {
    this.stream.next();
    this.parseExpression();
    if (name === 'include') {
      if (test(this.stream.current, 'name:ignore') && test(this.stream.look(), 'name:missing')) this.stream.skip(2);
      this.parseImportContext();
    }
    return [{ kind: 'statement' }];
  }

  private parseImport(): BodyNode[] {
    this.stream.next();
    this.parseExpression();
    this.stream.expect('name:as');
    this.parseAssignTarget(true, true);
    this.parseImportContext();
    return [{ kind: 'statement' }];
  }

  private parseFrom(): BodyNode[] {
    this.stream.next();
    this.parseExpression();
    this.stream.expect('name:import');
    let names = 0;
    const parseContext = () => {
      if ((this.stream.current.value === 'with' || this.stream.current.value === 'without') && test(this.stream.look(), 'name:context')) {
        this.stream.next();
        this.stream.skip();
        return true;
      }
      return false;
    };
    for (;;) {
      if (names) this.stream.expect('comma');
      if (this.type() === 'name') {
        if (parseContext()) break;
        const target = this.parseAssignTarget(true, true);
        if (target.name!.startsWith('_')) this.fail('names starting with an underline can not be imported', target.lineno, target.token);
        if (this.stream.skipIf('name:as')) this.parseAssignTarget(true, true);
        names++;
        if (parseContext() || this.type() !== 'comma') break;
      } else this.stream.expect('name');
    }
    return [{ kind: 'statement' }];
  }

  private parseSignature() {
    let args = 0;
    let defaults = 0;
    this.stream.expect('lparen');
    while (this.type() !== 'rparen') {
      if (args) this.stream.expect('comma');
      this.parseAssignTarget(true, true);
      if (this.stream.skipIf('assign')) {
        this.parseExpression();
        defaults++;
      } else if (defaults) this.fail('non-default argument follows default argument');
      args++;
    }
    this.stream.expect('rparen');
  }

  private parseCallBlock(): BodyNode[] {
    const token = this.stream.next();
    if (this.type() === 'lparen') this.parseSignature();
    const call = this.parseExpression();
    if (call.type !== 'Call') this.fail('expected call', token.lineno, token);
    this.parseStatements(['name:endcall'], true);
    return [{ kind: 'statement' }];
  }

  private parseMacro(): BodyNode[] {
    this.stream.next();
    this.parseAssignTarget(true, true);
    this.parseSignature();
    this.parseStatements(['name:endmacro'], true);
    return [{ kind: 'statement' }];
  }

  private parsePrint(): BodyNode[] {
    this.stream.next();
    let n = 0;
    while (this.type() !== 'block_end') {
      if (n++) this.stream.expect('comma');
      this.parseExpression();
    }
    return [{ kind: 'statement' }];
  }

  parseAssignTarget(withTuple = true, nameOnly = false, extraEndRules?: readonly string[], withNamespace = false): Node {
    let target: Node;
    if (nameOnly) {
      const token = this.stream.expect('name');
      target = { type: 'Name', name: token.value, lineno: token.lineno, token };
    } else if (withTuple) target = this.parseTuple(true, true, extraEndRules, false, withNamespace);
    else target = this.parsePrimary(withNamespace);
    if (!canAssign(target)) this.fail(`can't assign to ${pyRepr(target.type.toLowerCase())}`, target.lineno, target.token);
    return target;
  }

  parseExpression(withCondexpr = true): Node {
    return withCondexpr ? this.parseCondexpr() : this.parseOr();
  }

  /** A left-associative chain; `operator` consumes an operator and names the node, or says there is none. Line as Jinja keeps it. */
  private binary(operands: () => Node, operator: () => string | undefined): Node {
    let token = this.stream.current;
    let left = operands();
    let type: string | undefined;
    while ((type = operator()) !== undefined) {
      operands();
      left = { type, lineno: token.lineno, token };
      token = this.stream.current;
    }
    return left;
  }

  private operator(types: Record<string, string>): string | undefined {
    const type = types[this.type()];
    if (type) this.stream.next();
    return type;
  }

  private parseCondexpr(): Node {
    let token = this.stream.current;
    let expr = this.parseOr();
    while (this.stream.skipIf('name:if')) {
      this.parseOr();
      if (this.stream.skipIf('name:else')) this.parseCondexpr();
      expr = { type: 'CondExpr', lineno: token.lineno, token };
      token = this.stream.current;
    }
    return expr;
  }

  private parseOr(): Node {
    return this.binary(() => this.parseAnd(), () => (this.stream.skipIf('name:or') ? 'Or' : undefined));
  }

  private parseAnd(): Node {
    return this.binary(() => this.parseNot(), () => (this.stream.skipIf('name:and') ? 'And' : undefined));
  }

  private parseNot(): Node {
    if (test(this.stream.current, 'name:not')) {
      const token = this.stream.next();
      this.parseNot();
      return { type: 'Not', lineno: token.lineno, token };
    }
    return this.parseCompare();
  }

  private parseCompare(): Node {
    let token = this.stream.current;
    const expr = this.parseMath1();
    let ops = 0;
    for (;;) {
      const type = this.type();
      if (COMPARE_OPERATORS.has(type)) {
        this.stream.next();
        this.parseMath1();
      } else if (this.stream.skipIf('name:in')) this.parseMath1();
      else if (test(this.stream.current, 'name:not') && test(this.stream.look(), 'name:in')) {
        this.stream.skip(2);
        this.parseMath1();
      } else break;
      ops++;
      token = this.stream.current;
    }
    return ops ? { type: 'Compare', lineno: token.lineno, token } : expr;
  }

  private parseMath1(): Node {
    return this.binary(() => this.parseConcat(), () => this.operator(MATH1));
  }

  private parseConcat(): Node {
    const token = this.stream.current;
    const first = this.parseMath2();
    let more = false;
    while (this.type() === 'tilde') {
      this.stream.next();
      this.parseMath2();
      more = true;
    }
    return more ? { type: 'Concat', lineno: token.lineno, token } : first;
  }

  private parseMath2(): Node {
    return this.binary(() => this.parsePow(), () => this.operator(MATH2));
  }

  private parsePow(): Node {
    return this.binary(() => this.parseUnary(), () => this.operator(POW));
  }

  private parseUnary(withFilter = true): Node {
    const token = this.stream.current;
    let node: Node;
    if (token.type === 'sub' || token.type === 'add') {
      this.stream.next();
      this.parseUnary(false);
      node = { type: token.type === 'sub' ? 'Neg' : 'Pos', lineno: token.lineno, token };
    } else node = this.parsePrimary();
    node = this.parsePostfix(node);
    if (withFilter) node = this.parseFilterExpr(node);
    return node;
  }

  parsePrimary(withNamespace = false): Node {
    const token = this.stream.current;
    if (token.type === 'name') {
      this.stream.next();
      if (CONSTANT_NAMES.has(token.value)) return { type: 'Const', lineno: token.lineno, token };
      if (withNamespace && this.type() === 'dot') {
        this.stream.next();
        this.stream.expect('name');
        return { type: 'NSRef', lineno: token.lineno, token };
      }
      return { type: 'Name', name: token.value, lineno: token.lineno, token };
    }
    if (token.type === 'string') {
      this.stream.next();
      while (this.type() === 'string') this.stream.next();
      return { type: 'Const', lineno: token.lineno, token };
    }
    if (token.type === 'integer' || token.type === 'float') {
      this.stream.next();
      return { type: 'Const', lineno: token.lineno, token };
    }
    if (token.type === 'lparen') {
      this.stream.next();
      const node = this.parseTuple(false, true, undefined, true);
      this.stream.expect('rparen');
      return node;
    }
    if (token.type === 'lbracket') return this.parseList();
    if (token.type === 'lbrace') return this.parseDict();
    return this.fail(`unexpected ${pyRepr(describeToken(token))}`, token.lineno, token);
  }

  parseTuple(simplified = false, withCondexpr = true, extraEndRules?: readonly string[], explicitParentheses = false, withNamespace = false): Node {
    let start = this.stream.current;
    const parse = simplified ? () => this.parsePrimary(withNamespace) : () => this.parseExpression(withCondexpr);
    const args: Node[] = [];
    let isTuple = false;
    for (;;) {
      if (args.length) this.stream.expect('comma');
      if (this.isTupleEnd(extraEndRules)) break;
      args.push(parse());
      if (this.type() === 'comma') isTuple = true;
      else break;
      start = this.stream.current;
    }
    if (!isTuple) {
      if (args.length) return args[0];
      if (!explicitParentheses) this.fail(`Expected an expression, got ${pyRepr(describeToken(this.stream.current))}`);
    }
    return { type: 'Tuple', lineno: start.lineno, token: start, items: args };
  }

  private isTupleEnd(extraEndRules?: readonly string[]): boolean {
    const type = this.type();
    if (type === 'variable_end' || type === 'block_end' || type === 'rparen') return true;
    return extraEndRules ? testAny(this.stream.current, extraEndRules) : false;
  }

  private parseList(): Node {
    const token = this.stream.expect('lbracket');
    let items = 0;
    while (this.type() !== 'rbracket') {
      if (items) this.stream.expect('comma');
      if (this.type() === 'rbracket') break;
      this.parseExpression();
      items++;
    }
    this.stream.expect('rbracket');
    return { type: 'List', lineno: token.lineno, token };
  }

  private parseDict(): Node {
    const token = this.stream.expect('lbrace');
    let items = 0;
    while (this.type() !== 'rbrace') {
      if (items) this.stream.expect('comma');
      if (this.type() === 'rbrace') break;
      this.parseExpression();
      this.stream.expect('colon');
      this.parseExpression();
      items++;
    }
    this.stream.expect('rbrace');
    return { type: 'Dict', lineno: token.lineno, token };
  }

  private parsePostfix(node: Node): Node {
    for (;;) {
      const type = this.type();
      if (type === 'dot' || type === 'lbracket') node = this.parseSubscript();
      else if (type === 'lparen') node = this.parseCall();
      else break;
    }
    return node;
  }

  private parseFilterExpr(node: Node): Node {
    for (;;) {
      const type = this.type();
      if (type === 'pipe') node = this.parseFilter(false);
      else if (type === 'name' && this.stream.current.value === 'is') node = this.parseTest();
      else if (type === 'lparen') node = this.parseCall();
      else break;
    }
    return node;
  }

  private parseSubscript(): Node {
    const token = this.stream.next();
    if (token.type === 'dot') {
      const attr = this.stream.current;
      this.stream.next();
      if (attr.type === 'name') return { type: 'Getattr', lineno: token.lineno, token };
      if (attr.type !== 'integer') this.fail('expected name or number', attr.lineno, attr);
      return { type: 'Getitem', lineno: token.lineno, token };
    }
    let args = 0;
    while (this.type() !== 'rbracket') {
      if (args) this.stream.expect('comma');
      this.parseSubscribed();
      args++;
    }
    this.stream.expect('rbracket');
    return { type: 'Getitem', lineno: token.lineno, token };
  }

  private parseSubscribed() {
    if (this.type() === 'colon') this.stream.next();
    else {
      this.parseExpression();
      if (this.type() !== 'colon') return;
      this.stream.next();
    }
    if (this.type() !== 'colon' && this.type() !== 'rbracket' && this.type() !== 'comma') this.parseExpression();
    if (this.type() === 'colon') {
      this.stream.next();
      if (this.type() !== 'rbracket' && this.type() !== 'comma') this.parseExpression();
    }
  }

  private parseCallArgs() {
    const token = this.stream.expect('lparen');
    let dynArgs = false;
    let dynKwargs = false;
    let kwargs = false;
    let requireComma = false;
    const ensure = (ok: boolean) => {
      if (!ok) this.fail('invalid syntax for function call expression', token.lineno, token);
    };
    while (this.type() !== 'rparen') {
      if (requireComma) {
        this.stream.expect('comma');
        if (this.type() === 'rparen') break;
      }
      if (this.type() === 'mul') {
        ensure(!dynArgs && !dynKwargs);
        this.stream.next();
        this.parseExpression();
        dynArgs = true;
      } else if (this.type() === 'pow') {
        ensure(!dynKwargs);
        this.stream.next();
        this.parseExpression();
        dynKwargs = true;
      } else if (this.type() === 'name' && this.stream.look().type === 'assign') {
        ensure(!dynKwargs);
        this.stream.skip(2);
        this.parseExpression();
        kwargs = true;
      } else {
        ensure(!dynArgs && !dynKwargs && !kwargs);
        this.parseExpression();
      }
      requireComma = true;
    }
    this.stream.expect('rparen');
  }

  private parseCall(): Node {
    const token = this.stream.current;
    this.parseCallArgs();
    return { type: 'Call', lineno: token.lineno, token };
  }

  /** A filter chain (`| f(x) | g`); startInline: the first filter has no pipe (`{% filter f %}`). */
  private parseFilter(startInline: boolean): Node {
    let node: Node | undefined;
    while (this.type() === 'pipe' || startInline) {
      if (!startInline) this.stream.next();
      const token = this.stream.expect('name');
      while (this.type() === 'dot') {
        this.stream.next();
        this.stream.expect('name');
      }
      if (this.type() === 'lparen') this.parseCallArgs();
      node = { type: 'Filter', lineno: token.lineno, token };
      startInline = false;
    }
    return node ?? { type: 'Filter', lineno: this.stream.current.lineno, token: this.stream.current };
  }

  private parseTest(): Node {
    const token = this.stream.next();
    const negated = this.stream.skipIf('name:not');
    this.stream.expect('name');
    while (this.type() === 'dot') {
      this.stream.next();
      this.stream.expect('name');
    }
    const current = this.stream.current;
    if (current.type === 'lparen') this.parseCallArgs();
    else if (['name', 'string', 'integer', 'float', 'lparen', 'lbracket', 'lbrace'].includes(current.type) && !testAny(current, ['name:else', 'name:or', 'name:and'])) {
      if (test(current, 'name:is')) this.fail('You cannot chain multiple tests with is');
      this.parsePostfix(this.parsePrimary());
    }
    return { type: negated ? 'Not' : 'Test', lineno: token.lineno, token };
  }

  subparse(endTokens?: readonly string[]): BodyNode[] {
    const body: BodyNode[] = [];
    let data: ({ data: string } | Node)[] = [];
    const flush = () => {
      if (data.length) body.push({ kind: 'output', nodes: data });
      data = [];
    };
    if (endTokens) this.endTokenStack.push(endTokens);
    try {
      while (this.stream.more) {
        const token = this.stream.current;
        if (token.type === 'data') {
          if (token.value) data.push({ data: token.value });
          this.stream.next();
        } else if (token.type === 'variable_begin') {
          this.stream.next();
          data.push(this.parseTuple(false, true));
          this.stream.expect('variable_end');
        } else if (token.type === 'block_begin') {
          flush();
          this.stream.next();
          if (endTokens && testAny(this.stream.current, endTokens)) return body;
          body.push(...this.parseStatement());
          this.stream.expect('block_end');
        } else throw new Error('internal parsing error');
      }
      flush();
    } finally {
      if (endTokens) this.endTokenStack.pop();
    }
    return body;
  }
}

// ------------------------------------------------------------------------------------------------- entry

/** The text as Jinja's lexer sees it: \r\n and \r as \n, one final newline dropped; with offsets back. */
function normalize(text: string): { source: string; original: (offset: number) => number } {
  let source = text;
  let map: number[] | undefined;
  if (text.includes('\r')) {
    map = [];
    let out = '';
    for (let i = 0; i < text.length; i++) {
      map.push(i);
      if (text[i] === '\r') {
        out += '\n';
        if (text[i + 1] === '\n') i++;
      } else out += text[i];
    }
    map.push(text.length);
    source = out;
  }
  if (source.endsWith('\n')) source = source.slice(0, -1);
  return { source, original: map ? (offset: number) => map[Math.min(offset, map.length - 1)] : (offset: number) => offset };
}

/** Environment options that change Jinja's syntax (its delimiters, line statements): then this checker cannot tell. */
const SYNTAX_OPTIONS = /"(block|variable|comment)_(start|end)_string"|"line_(statement|comment)_prefix"/i;

/**
 * A `#jinja2: {...}` header (Salt reads it on the first line, or the second after a renderer shebang) that
 * changes Jinja's delimiters: the template is not in the syntax checked here.
 */
function changesSyntax(text: string): boolean {
  if (!text.includes('#jinja2:')) return false;
  const [first, second] = text.split(/\r\n|\r|\n/, 2);
  const header = first.startsWith('#!') && !first.startsWith('#!/') ? second : first;
  return header !== undefined && header.startsWith('#jinja2:') && SYNTAX_OPTIONS.test(header);
}

/**
 * The syntax error Jinja (with Salt's extensions) raises when it parses the text, if any: at most one,
 * since Jinja stops at the first. Salt's own jinja_env/jinja_sls_env options may change the delimiters
 * too; they are not in the text, and the defaults are assumed.
 */
export function jinjaSyntaxErrors(text: string): JinjaSyntaxError[] {
  // Most text holds no tag at all: nothing to parse.
  if (!/\{[{%#]/.test(text) || changesSyntax(text)) return [];
  const { source, original } = normalize(text);
  const starts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  const lineOf = (offset: number) => lastAtOrBefore(starts, offset) + 1;
  try {
    new Parser(tokenize(source, lineOf)).subparse();
    return [];
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error;
    const offset = original(Math.min(error.start, source.length));
    const end = original(Math.min(error.end, source.length));
    const found: JinjaSyntaxError = { line: error.lineno, message: error.message, offset, length: Math.max(0, end - offset), column: error.start - starts[lineOf(error.start) - 1] + 1 };
    const block = (error as SyntaxFailure & { block?: Token }).block;
    if (block) {
      // The block's tag starts at its `{%`: the token before its name.
      const tagStart = source.lastIndexOf('{%', block.start);
      found.block = { tag: block.value, offset: original(tagStart), line: lineOf(tagStart) };
      found.related = { offset: text.length, line: lineOf(source.length), message: 'the template ends here' };
    }
    return [found];
  }
}
