/**
 * check --exclude: path globs read as .gitignore reads them, over the paths check prints (relative to
 * the current folder, `/` between names, so a pattern is copied from the output): `*` and `?` within a
 * name, `**` across folders, `[abc]` a character of those; a pattern without a slash (but at its end)
 * matches a file or folder name at any depth, one with a slash is read from the current folder; a
 * folder's pattern covers everything under it. Pure: unit-tested.
 */
import { relative, sep } from 'node:path';

function globSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` is any folders, none too; a trailing `**` is anything below.
      if (pattern[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[' && pattern.indexOf(']', i + 2) > 0) {
      const end = pattern.indexOf(']', i + 2);
      const body = pattern.slice(i + 1, end);
      out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/** Whether a path (relative, `/` between names) is one of the patterns or under one. */
export function excludeMatcher(patterns: readonly string[]): (path: string) => boolean {
  const regexps = patterns
    .map((p) => p.trim().replace(/\\/g, '/').replace(/\/+$/, ''))
    .filter(Boolean)
    .map((p) => {
      // A slash at the start (`/x`, `./x`) or in the middle anchors the pattern at the current folder.
      const name = p.replace(/^\.?\//, '');
      const anchored = name !== p || name.includes('/');
      return new RegExp(`${anchored ? '^' : '(?:^|/)'}${globSource(name)}(?:/.*)?$`);
    });
  return (path) => regexps.some((r) => r.test(path));
}

/** excludeMatcher over absolute paths, each read relative to `cwd` as check prints it. */
export function excludedUnder(cwd: string, patterns: readonly string[]): (file: string) => boolean {
  if (!patterns.length) return () => false;
  const matches = excludeMatcher(patterns);
  return (file) => {
    const rel = relative(cwd, file);
    return matches((rel.startsWith('..') ? file : rel).split(sep).join('/'));
  };
}
