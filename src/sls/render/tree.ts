/**
 * The template tree of a Jinja source: its tags' text runs with whitespace control applied (`{%-`, `-%}`), then
 * the block structure (`if` chains with their branches, `for`, `macro`, block `set`...), cached per source.
 */
import { scanJinja, type JinjaTag } from '../jinja';

export type Node = TextNode | ExprNode | StmtNode | BlockNode;
interface TextNode {
  type: 'text';
  start: number;
  end: number;
}
export interface ExprNode {
  type: 'expr';
  start: number;
  end: number;
  inner: string;
}
export interface StmtNode {
  type: 'stmt';
  start: number;
  end: number;
  keyword: string;
  inner: string;
}
interface Branch {
  head: string;
  start: number;
  end: number;
  children: Node[];
}
export interface BlockNode {
  type: 'block';
  keyword: string;
  start: number;
  end: number;
  head: string;
  branches: Branch[];
}

/** The statements that bind names or load templates (the others, `do` and the like, make nothing to read). */
export const STATEMENTS_READ = new Set(['set', 'from', 'import', 'import_yaml', 'import_json', 'import_text', 'include', 'extends']);
const OPENERS = new Set(['if', 'for', 'macro', 'call', 'filter', 'with', 'autoescape', 'block', 'trans', 'raw']);

/** The inside of a tag without its delimiters and whitespace-control marks. */
function innerOf(source: string, tag: JinjaTag): string {
  const close = tag.unterminated ? tag.end : tag.end - 2;
  return source
    .slice(tag.start + 2, Math.max(tag.start + 2, close))
    .replace(/^[-+]/, '')
    .replace(/[-+]$/, '')
    .trim();
}

/** The tags' text runs with whitespace control applied, then the block structure. */
export function parseTemplate(source: string, tags: readonly JinjaTag[]): Node[] {
  const flat: Node[] = [];
  let at = 0;
  let stripNext = false;
  const pushText = (start: number, end: number, stripLeft: boolean, stripRight: boolean) => {
    if (stripLeft) while (start < end && /\s/.test(source[start])) start++;
    if (stripRight) while (end > start && /\s/.test(source[end - 1])) end--;
    if (end > start) flat.push({ type: 'text', start, end });
  };
  for (const tag of tags) {
    const stripBefore = source[tag.start + 2] === '-';
    pushText(at, tag.start, stripNext, stripBefore);
    stripNext = !tag.unterminated && source[tag.end - 3] === '-';
    at = tag.end;
    if (tag.kind === 'comment') continue;
    const inner = innerOf(source, tag);
    if (tag.kind === 'expression') flat.push({ type: 'expr', start: tag.start, end: tag.end, inner });
    else flat.push({ type: 'stmt', start: tag.start, end: tag.end, keyword: tag.keyword ?? '', inner });
  }
  pushText(at, source.length, stripNext, false);

  const root: Node[] = [];
  const stack: { block: BlockNode; children: Node[] }[] = [];
  const current = () => (stack.length ? stack[stack.length - 1].children : root);
  for (const node of flat) {
    if (node.type !== 'stmt') {
      current().push(node);
      continue;
    }
    const word = node.keyword;
    const opensSet = word === 'set' && !/^set\s+[\w\s,.]+=/.test(node.inner);
    if (OPENERS.has(word) || opensSet) {
      const branch: Branch = { head: node.inner.slice(word.length).trim(), start: node.start, end: node.end, children: [] };
      const block: BlockNode = { type: 'block', keyword: word, start: node.start, end: node.end, head: branch.head, branches: [branch] };
      current().push(block);
      stack.push({ block, children: branch.children });
      continue;
    }
    if ((word === 'elif' || word === 'else') && stack.length) {
      const top = stack[stack.length - 1];
      if (top.block.keyword === 'if' || (top.block.keyword === 'for' && word === 'else')) {
        const last = top.block.branches[top.block.branches.length - 1];
        last.end = node.start;
        const branch: Branch = { head: word === 'elif' ? node.inner.slice(4).trim() : '', start: node.start, end: node.end, children: [] };
        top.block.branches.push(branch);
        top.children = branch.children;
        continue;
      }
    }
    if (word.startsWith('end')) {
      const opened = word.slice(3);
      let index = -1;
      for (let i = stack.length - 1; i >= 0 && index < 0; i--) if (stack[i].block.keyword === opened) index = i;
      if (index >= 0) {
        for (const open of stack.splice(index)) {
          open.block.end = node.end;
          const last = open.block.branches[open.block.branches.length - 1];
          last.end = node.start;
        }
        continue;
      }
    }
    current().push(node);
  }
  for (const open of stack) {
    open.block.end = source.length;
    open.block.branches[open.block.branches.length - 1].end = source.length;
  }
  return root;
}

const templates = new Map<string, Node[]>();
export function templateNodes(source: string): Node[] {
  let nodes = templates.get(source);
  if (!nodes) {
    if (templates.size >= 128) templates.clear();
    nodes = parseTemplate(source, scanJinja(source));
    templates.set(source, nodes);
  }
  return nodes;
}
