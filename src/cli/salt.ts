/**
 * `salt-containers salt versions`: the Salt releases the package index serves, by line, with each
 * line's support (LTS, STS, end of life) and which releases the cache holds (installed here, or made
 * on the engine) or are known not to install here. --json: {from, lines: [...]}, the SaltLine shape.
 */
import type { DockerEngine } from '../engine/docker/engine';
import { cachedSaltVersions, groupByLine, saltReleases, uninstallable, type SaltLine } from '../engine/salt/versions';
import type { CliCommand } from './args';

/** The table: a line per Salt line, its releases newest first (cached ones marked), at most `shown` each. */
export function formatSaltVersions(lines: readonly SaltLine[], shown = 8): string {
  const out: string[] = [];
  for (const line of lines) {
    const releases = line.releases.filter((r) => !r.prerelease && !r.yanked);
    if (!releases.length) continue; // a line of pre-releases only
    const support = line.status === 'end of life' ? `end of life${line.until ? ` since ${line.until}` : ''}` : `${line.status}${line.until ? ` until ${line.until}` : ''}`;
    out.push(`${line.line}  ${support}`);
    const listed = releases.filter((r, i) => i < shown || r.cached.length);
    for (const r of listed) {
      const marks = [r.cached.length ? `cached (${r.cached.join(', ')})` : '', r.uninstallable ? `does not install here: ${r.uninstallable}` : ''].filter(Boolean).join('; ');
      out.push(`  ${r.version.padEnd(10)} ${(r.date ?? '').padEnd(10)}  ${marks}`.trimEnd());
    }
    if (releases.length > listed.length) out.push(`  ... ${releases.length - listed.length} older`);
  }
  return out.join('\n');
}

export async function saltVerb(command: CliCommand, context: { engine: DockerEngine; cacheDir: string; write: (text: string) => void; log?: (line: string) => void }): Promise<number> {
  const { releases, from } = await saltReleases({ cacheDir: context.cacheDir, engine: context.engine, log: context.log });
  const lines = groupByLine(releases, cachedSaltVersions(context.cacheDir), uninstallable(context.cacheDir));
  context.write(command.json ? JSON.stringify({ from, lines }, null, 2) : formatSaltVersions(lines));
  return 0;
}
