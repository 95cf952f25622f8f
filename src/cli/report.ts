/**
 * `salt-containers report merge FILE...`: the reports of a run's shards (their `test --json` documents
 * and JUnit files, told apart by content) joined into one: JUnit to --junit FILE, the merged --json
 * document to stdout (else a line of totals); the exit code is the merged run's, as `test`'s would be.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergeJson, mergeJunit, MergeError, reportKind } from '../testing';
import type { CliCommand } from './args';

export function reportMergeVerb(command: CliCommand, write: (text: string) => void): number {
  const cwd = process.cwd();
  const json: { file: string; text: string }[] = [];
  const junit: { file: string; text: string }[] = [];
  for (const file of command.reports) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, file), 'utf8');
    } catch (error) {
      throw new MergeError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const kind = reportKind(text);
    if (!kind) throw new MergeError(`${file} is neither a --json report nor JUnit XML`);
    (kind === 'json' ? json : junit).push({ file, text });
  }
  if (command.junit) {
    if (!junit.length) throw new MergeError('--junit FILE: none of the reports given is JUnit XML');
    writeFileSync(resolve(cwd, command.junit), mergeJunit(junit));
  }
  if (!json.length) {
    if (command.json) throw new MergeError('--json: none of the reports given is a --json report');
    write(`merged ${junit.length} JUnit file(s) into ${command.junit ?? '(nowhere: give --junit FILE)'}`);
    return 0;
  }
  const merged = mergeJson(json);
  const cells = merged.cells as { passed: boolean | null }[];
  if (command.json) write(JSON.stringify(merged, null, 2));
  else {
    const passed = cells.filter((c) => c.passed === true).length;
    const failed = cells.filter((c) => c.passed === false).length;
    write(`${cells.length} cells from ${json.length} report(s): ${passed} passed, ${failed} failed${cells.length - passed - failed ? `, ${cells.length - passed - failed} cancelled` : ''}${command.junit ? `; JUnit in ${command.junit}` : ''}`);
  }
  return merged.retcode as number;
}
