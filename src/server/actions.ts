/** Quick fixes for diagnostics that carry one (diagnostics.ts): include the module that declares a target, change to a close name. */
import { CodeAction, CodeActionKind, Diagnostic, Position, TextEdit } from 'vscode-languageserver';
import type { ParsedSls } from '../sls/parse';
import { DIAGNOSTIC_SOURCE, type DiagnosticData } from './diagnostics';
import type { SlsService } from './service';

export function codeActions(service: SlsService, uri: string, diagnostics: Diagnostic[]): CodeAction[] {
  const found = service.file(uri);
  if (!found) return [];
  const { parsed } = found.entry;
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
    const fix = (diagnostic.data as DiagnosticData | undefined)?.fix;
    if (!fix) continue;
    if (fix.kind === 'replace') {
      for (const replacement of fix.with.slice(0, 3)) {
        const action = CodeAction.create(`Change to '${replacement}'`, { changes: { [uri]: [TextEdit.replace(diagnostic.range, replacement)] } }, CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = fix.with.length === 1;
        actions.push(action);
      }
    } else if (fix.kind === 'include') {
      const action = CodeAction.create(`Include '${fix.module}'`, { changes: { [uri]: [includeEdit(parsed, fix.module)] } }, CodeActionKind.QuickFix);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      actions.push(action);
    }
  }
  return actions;
}

/** Adds `module` to the include list, making the list when there is none. */
function includeEdit(parsed: ParsedSls, module: string): TextEdit {
  const last = parsed.includes[parsed.includes.length - 1];
  if (last) {
    const { line } = parsed.lines.position(last.span.start);
    const text = parsed.lines.lineText(line);
    const indent = /^\s*/.exec(text)?.[0] ?? '';
    return TextEdit.insert(Position.create(line + 1, 0), `${indent}- ${module}\n`);
  }
  // After a shebang and leading Jinja imports / comments.
  let line = 0;
  while (line < parsed.lines.lineCount) {
    const text = parsed.lines.lineText(line).trim();
    if (text.startsWith('#!') || text.startsWith('{%') || text.startsWith('{#')) line++;
    else break;
  }
  return TextEdit.insert(Position.create(line, 0), `include:\n  - ${module}\n\n`);
}
