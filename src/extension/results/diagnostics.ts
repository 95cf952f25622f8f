/**
 * The `salt-containers` diagnostics collection (source "salt"). Each run replaces the problems of the
 * files it speaks for (problems.ts: filesOfRun) and of the files the previous run of the same SLS put
 * problems in, so stale problems go away on the next run of that SLS while other runs' stay.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Problem } from './problems';

export const diagnosticsName = 'salt-containers';

function lineRange(problem: Problem, lines: Map<string, string[]>): vscode.Range {
  let fileLines = lines.get(problem.file);
  if (!fileLines) {
    try {
      fileLines = readFileSync(problem.file, 'utf8').split(/\r?\n/);
    } catch {
      fileLines = [];
    }
    lines.set(problem.file, fileLines);
  }
  const text = fileLines[problem.line] ?? '';
  const start = problem.column > 0 ? problem.column : Math.max(0, text.search(/\S/));
  return new vscode.Range(problem.line, start, problem.line, Math.max(start + 1, text.length));
}

export class RunDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection(diagnosticsName);
  private byFile = new Map<string, vscode.Diagnostic[]>();
  private filesByRun = new Map<string, Set<string>>();

  /**
   * Puts one run's problems: `key` names the run (problems.ts runKey), `files` the files it speaks
   * for (filesOfRun), `problems` what it found (problemsOf).
   */
  update(key: string, files: readonly string[], problems: readonly Problem[]): void {
    const reset = new Set([...files, ...(this.filesByRun.get(key) ?? [])]);
    for (const file of reset) this.byFile.delete(file);
    const lines = new Map<string, string[]>();
    const touched = new Set<string>();
    for (const problem of problems) {
      const severity = problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Information;
      const diagnostic = new vscode.Diagnostic(lineRange(problem, lines), problem.message, severity);
      diagnostic.source = 'salt';
      diagnostic.code = problem.code;
      const list = this.byFile.get(problem.file) ?? [];
      list.push(diagnostic);
      this.byFile.set(problem.file, list);
      touched.add(problem.file);
      reset.add(problem.file);
    }
    this.filesByRun.set(key, touched);
    for (const file of reset) {
      const list = this.byFile.get(file);
      if (list) this.collection.set(vscode.Uri.file(file), list);
      else this.collection.delete(vscode.Uri.file(file));
    }
  }

  dispose(): void {
    this.collection.dispose();
  }
}
