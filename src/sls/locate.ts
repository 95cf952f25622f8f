/**
 * Maps a state result (its `__sls__` and `__id__`) to the file and line that define it. A first,
 * line-based version: the SLS language work replaces the search with the Jinja-tolerant parser.
 */
import { readFileSync } from 'node:fs';
import { fileForModule } from './modules';

export interface SourceLocation {
  file: string;
  /** 0-based line. */
  line: number;
  /** 0-based column. */
  column: number;
  /** False when the ID was not found in the file (made by Jinja, say): the location is the top of the right file. */
  exact: boolean;
}

export function locateState(stateRoot: string, sls: string, id: string): SourceLocation | undefined {
  const file = fileForModule(stateRoot, sls);
  if (!file) return undefined;
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^(['"]?)${escaped}\\1\\s*:`);
  const line = lines.findIndex((text) => pattern.test(text));
  return line >= 0 ? { file, line, column: 0, exact: true } : { file, line: 0, column: 0, exact: false };
}

/** The file and line for an error Salt reported in an SLS module (line is 1-based as Salt prints it). */
export function locateSls(stateRoot: string, sls: string, line?: number): SourceLocation | undefined {
  const file = fileForModule(stateRoot, sls);
  if (!file) return undefined;
  return { file, line: Math.max(0, (line ?? 1) - 1), column: 0, exact: line !== undefined };
}
