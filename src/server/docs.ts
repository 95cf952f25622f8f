/**
 * What Salt's state functions say about themselves, made readable: a function's signature and doc as
 * Markdown (reStructuredText docstrings converted), one argument's description, and the arguments every
 * state takes. Hover and completion show these.
 */
import { escapeRegExp } from '../sls/jinja';

/** Arguments every state accepts (Salt's global state arguments). */
export const GLOBAL_ARGS = ['name', 'names', 'order', 'onlyif', 'unless', 'creates', 'check_cmd', 'failhard', 'reload_modules', 'reload_grains', 'reload_pillar', 'runas', 'runas_password', 'fire_event', 'retry', 'parallel', 'saltenv', 'listen', 'mod_aggregate'];

export function signature(name: string, args: string[]): string {
  return `${name}(${args.join(', ')})`;
}

/** Markdown for a state function: its doc's summary, the signature with defaults (wrapped), then the rest of the doc. */
export function functionMarkdown(name: string, args: { name: string; default?: string }[], doc: string): string {
  const params = args.map((a) => (a.default === undefined ? a.name : `${a.name}=${a.default}`));
  const lines: string[] = [];
  let line = `${name}(`;
  for (const [i, param] of params.entries()) {
    const piece = param + (i < params.length - 1 ? ', ' : '');
    if (line.length + piece.length > 80 && line.trim() !== `${name}(`) {
      lines.push(line.trimEnd());
      line = '    ';
    }
    line += piece;
  }
  lines.push(`${line})`);
  const paragraphs = rstToMarkdown(doc).split(/\n\s*\n/);
  // The summary is the first real paragraph, not a "Changed in version" note.
  let first = paragraphs.findIndex((p) => p.trim() && !/^(Changed|New|Deprecated) in version/i.test(p.trim()) && !p.startsWith('```'));
  if (first < 0) first = 0;
  const summary = paragraphs[first] ?? '';
  const rest = paragraphs.filter((_, i) => i !== first).join('\n\n');
  return [summary, `\`\`\`python\n${lines.join('\n')}\n\`\`\``, rest.slice(0, 6000)].filter((p) => p.trim() !== '').join('\n\n');
}

/** A docstring with its common indentation removed (the first line is often not indented). */
function dedentDoc(doc: string): string[] {
  const lines = doc.replace(/\t/g, '    ').split('\n');
  const indents = lines
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => l.length - l.trimStart().length);
  const common = indents.length ? Math.min(...indents) : 0;
  return lines.map((l, i) => (i === 0 ? l.trim() : l.slice(Math.min(common, l.length - l.trimStart().length))));
}

/**
 * Salt's reStructuredText docstrings made readable as Markdown: `.. code-block::` to fences, ``x`` to `x`,
 * argument entries (`name` then an indented description) to a bold name and a plain paragraph.
 */
function rstToMarkdown(doc: string): string {
  const lines = dedentDoc(doc);
  const out: string[] = [];
  /** Inside a code block: the indentation its lines are cut at. */
  let fence: number | undefined;
  /** Indentation of the prose around (a deeper block after a blank line is an example). */
  let prose = 0;
  let previousBlank = true;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const blank = line.trim() === '';
    const indent = indentOf(line);
    if (fence !== undefined && !blank && indent < fence) {
      while (out.length && out[out.length - 1] === '') out.pop();
      out.push('```', '');
      fence = undefined;
    }
    if (fence !== undefined) {
      out.push(line.slice(Math.min(line.length, fence)));
      previousBlank = blank;
      continue;
    }
    const code = /^(\s*)\.\. code-block::\s*(\w*)/.exec(line);
    if (code) {
      out.push(`\`\`\`${code[2] || 'text'}`);
      // Its lines start after the blank line that follows.
      const first = lines.slice(i + 1).find((l) => l.trim() !== '');
      fence = first ? indentOf(first) : code[1].length + 4;
      i++;
      continue;
    }
    if (!blank && previousBlank && indent >= prose + 4) {
      const block = lines.slice(i, lines.findIndex((l, j) => j > i && l.trim() !== '' && indentOf(l) < indent) >>> 0);
      out.push(block.some((l) => /:\s*$/.test(l) || /^\s*- /.test(l)) ? '```yaml' : '```text');
      fence = indent;
      out.push(line.slice(indent));
      previousBlank = false;
      continue;
    }
    previousBlank = blank;
    if (blank) {
      out.push('');
      continue;
    }
    prose = indent;
    const next = lines[i + 1] ?? '';
    if (/^[A-Za-z_][\w]*$/.test(line.trim()) && next.trim() && indentOf(next) > indent) {
      out.push(`**${line.trim()}**`, '');
      prose = indentOf(next);
      continue;
    }
    // Indented prose would be a code block in Markdown.
    out.push(line.trimStart().replace(/``([^`]+)``/g, '`$1`'));
  }
  if (fence !== undefined) out.push('```');
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The description of one argument in a state function's docstring (`name` then indented lines). */
export function argumentDoc(doc: string, name: string): string | undefined {
  const lines = dedentDoc(doc);
  // `name` alone on a line, or Sphinx's `:param str name: text`.
  const param = new RegExp(`^\\s*:param\\s+(?:[\\w.\\[\\], ]+\\s+)?${escapeRegExp(name)}:\\s*(.*)$`);
  const at = lines.findIndex((l) => l.trim() === name || param.test(l));
  if (at < 0) return undefined;
  const own = lines[at].length - lines[at].trimStart().length;
  const body: string[] = [];
  const inline = param.exec(lines[at])?.[1];
  if (inline) body.push(`${' '.repeat(own + 4)}${inline}`);
  for (const line of lines.slice(at + 1)) {
    if (line.trim() && line.length - line.trimStart().length <= own) break;
    body.push(line);
  }
  // A blank first line: the description's own first line is indented like the rest (see dedentDoc).
  const text = rstToMarkdown(['', ...body].join('\n'));
  return text || undefined;
}
