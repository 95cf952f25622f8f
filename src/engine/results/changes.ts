/** A state's changes as people read them: a file diff as it is, everything else as YAML. */
import { dump } from 'js-yaml';

export function changesText(changes: Record<string, unknown>): string {
  if (Object.keys(changes).length === 0) return '';
  if (typeof changes.diff === 'string' && Object.keys(changes).length === 1) return changes.diff;
  return dump(changes, { lineWidth: 100, noRefs: true, sortKeys: true });
}
