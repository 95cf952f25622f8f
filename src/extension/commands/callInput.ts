/**
 * What people type into "Run Salt Function in Container": `cmd.run 'ls -l /' cwd=/tmp`, split the
 * way salt-call's command line does (quotes group, `key=value` is a keyword argument). Nothing here
 * ever reaches a shell: the words become argv entries. Pure (no vscode import).
 */

export interface CallInput {
  fn: string;
  args: string[];
  kwargs: Record<string, string>;
}

/** Splits on whitespace; single quotes keep everything, double quotes and backslashes escape. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < text.length && (text[i + 1] === '"' || text[i + 1] === '\\')) current += text[++i];
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`);
  if (inWord) words.push(current);
  return words;
}

const functionName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const keyword = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Parses the input; throws an Error that says what is wrong (shown in the input box). */
export function parseCallInput(text: string): CallInput {
  const [fn, ...rest] = splitWords(text.trim());
  if (!fn) throw new Error('Type a function, e.g. grains.item os or cmd.run "ls -l /"');
  if (!functionName.test(fn)) throw new Error(`"${fn}" is not a Salt function name (module.function, e.g. test.ping)`);
  const args: string[] = [];
  const kwargs: Record<string, string> = {};
  for (const word of rest) {
    const match = keyword.exec(word);
    if (match) kwargs[match[1]] = match[2];
    else args.push(word);
  }
  return { fn, args, kwargs };
}

/** The input problem as a message, or undefined when it parses (for showInputBox's validateInput). */
export function callInputProblem(text: string): string | undefined {
  try {
    parseCallInput(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
