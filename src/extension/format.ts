/**
 * Words and labels the views, quick picks and status bar show: pure functions (no vscode import), so
 * they are unit-tested under plain Node.
 */
import type { ContainerInfo, ImageInfo, RunSummary } from '../engine';

export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000; // Docker's own CLI uses decimal units
    unit++;
  }
  return `${unit === 0 || value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** "just now", "5 minutes ago", "3 days ago": `created` and `now` in seconds since the epoch. */
export function formatAge(created: number, now = Date.now() / 1000): string {
  const seconds = Math.max(0, Math.round(now - created));
  const steps: [number, string][] = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [7 * 86400, 'week'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of steps) {
    const count = Math.floor(seconds / size);
    if (count >= 1) return `${count} ${name}${count === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The tree item's contextValue; menus match it with `viewItem =~ /^runningContainer$/` and the like. */
export function containerContextValue(state: ContainerInfo['state']): string {
  switch (state) {
    case 'running':
      return 'runningContainer';
    case 'paused':
      return 'pausedContainer';
    case 'restarting':
      return 'restartingContainer';
    default:
      return 'stoppedContainer';
  }
}

export function imageContextValue(image: ImageInfo): string {
  return image.dangling ? 'danglingImage' : 'image';
}

/** One collator for every sort (String#localeCompare sets one up per call: slow over hundreds of items). */
let collator: Intl.Collator | undefined;
export function compareNames(a: string, b: string): number {
  collator ??= new Intl.Collator(undefined, { numeric: true });
  return collator.compare(a, b);
}

const stateOrder: Record<ContainerInfo['state'], number> = { running: 0, restarting: 1, paused: 2, created: 3, exited: 3, dead: 4, removing: 5 };

/** Running first, then the others; by name within each group. */
export function sortContainers(list: readonly ContainerInfo[]): ContainerInfo[] {
  return [...list].sort((a, b) => stateOrder[a.state] - stateOrder[b.state] || compareNames(a.name, b.name));
}

/** Named images by repo:tag, then dangling ones newest first. */
export function sortImages(list: readonly ImageInfo[]): ImageInfo[] {
  return [...list].sort((a, b) => {
    if (a.dangling !== b.dangling) return a.dangling ? 1 : -1;
    if (a.dangling) return b.created - a.created;
    return compareNames(a.tags[0], b.tags[0]);
  });
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** An image's name in the view: its first repo:tag, or `<none>` and a short id for a dangling one. */
export function imageLabel(image: ImageInfo): string {
  return image.tags[0] ?? `<none> ${shortId(image.id)}`;
}

/** The lines of a container's tooltip: what people look up (ports, command, created). */
export function containerDetails(c: ContainerInfo, now?: number): [string, string][] {
  return [
    ['Name', c.name],
    ['ID', shortId(c.id)],
    ['Image', c.image],
    ['Status', c.status || c.state],
    ['Ports', c.ports.length ? c.ports.join(', ') : 'none'],
    ['Command', c.command || '(image default)'],
    ['Created', `${new Date(c.created * 1000).toISOString().replace('T', ' ').slice(0, 19)} (${formatAge(c.created, now)})`],
  ];
}

export function imageDetails(image: ImageInfo, now?: number): [string, string][] {
  return [
    ['Tags', image.tags.length ? image.tags.join(', ') : '<none> (dangling)'],
    ['ID', shortId(image.id)],
    ['Size', formatSize(image.size)],
    ['Created', `${new Date(image.created * 1000).toISOString().replace('T', ' ').slice(0, 19)} (${formatAge(image.created, now)})`],
  ];
}

/** The status-bar text of a state run: "2 failed, 5 ok" with a codicon for the outcome. */
export function summaryText(summary: RunSummary, errors: number): string {
  const parts: string[] = [];
  if (errors) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (summary.failed) parts.push(`${summary.failed} failed`);
  if (summary.changed) parts.push(`${summary.changed} changed`);
  if (summary.pending) parts.push(`${summary.pending} pending`);
  parts.push(`${summary.succeeded} ok`);
  const icon = errors || summary.failed ? '$(error)' : summary.pending ? '$(info)' : '$(check)';
  return `${icon} Salt: ${parts.join(', ')}`;
}

/** A name for a container Docker accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
export function validContainerName(name: string): string | undefined {
  if (!name) return 'Give the container a name.';
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) ? undefined : 'Letters, digits, _ . - only, starting with a letter or digit.';
}

/** An image name as Docker spells it: an optional registry (`host[:port]/`), a lowercase path, an optional tag. */
const IMAGE_NAME = String.raw`(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?`;

/** A repo[:tag] Docker accepts (lowercase repository path, optional tag). */
export function validImageTag(tag: string): string | undefined {
  if (!tag) return 'Give the image a tag, e.g. web:latest.';
  return new RegExp(`^${IMAGE_NAME}$`).test(tag) ? undefined : 'Use repo[:tag]: lowercase letters, digits, . _ - and /, e.g. myorg/web:1.0.';
}

/** Whether `ref` names an image to pull: a repo[:tag] as above, or with @sha256:DIGEST. */
export function isImageRef(ref: string): boolean {
  return new RegExp(`^${IMAGE_NAME}(?:@sha256:[0-9a-f]{64})?$`).test(ref);
}

/** A default name for a container made from `image`: its repo's last part and a short random suffix. */
export function suggestContainerName(image: string, suffix: string): string {
  const repo = image.replace(/:[^/:]*$/, '').split('/').pop() ?? 'salt';
  return `${repo.replace(/[^a-zA-Z0-9_.-]/g, '-') || 'salt'}-${suffix}`;
}

/** An error and what to do about it, as one sentence pair for a notification. */
export function errorWithHint(error: { message?: string; hint?: string } | unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { message?: string; hint?: string };
  const message = e.message ?? String(error);
  if (!e.hint) return message;
  return `${message}${/[.!?:]$/.test(message.trimEnd()) ? '' : '.'} ${e.hint}`;
}
