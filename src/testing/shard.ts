/**
 * Cells split for CI fleets: `--shard k/n` runs the k-th of n parts of the stably sorted cell list, so
 * n jobs on n machines run every cell once and the same split every time; with the durations of an
 * earlier run (a `test --json` document, or `report merge`'s) the parts are balanced by time. Pure.
 */
import type { CellSpec } from './cells';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `2/3` -> {index: 2, count: 3}; a message saying what is wrong otherwise. */
export function parseShard(text: string): Shard | string {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) return `--shard takes K/N, e.g. 1/3 (got ${text})`;
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (count < 1 || index < 1 || index > count) return `--shard ${text}: K must be between 1 and N (N at least 1)`;
  return { index, count };
}

/** The sort key of a cell: suite, image entry, Salt version; the same on every machine whatever the matrix's order. */
export function shardKey(cell: CellSpec): string[] {
  return [cell.suite.name, cell.image.name, cell.salt ?? ''];
}

function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const [x, y] = [a[i] ?? '', b[i] ?? ''];
    // Code-unit order, not the locale's: CI machines differ in locale.
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Cells in their stable order. */
export function sortCells(cells: readonly CellSpec[]): CellSpec[] {
  return [...cells].sort((a, b) => compareKeys(shardKey(a), shardKey(b)));
}

/**
 * Durations from an earlier run, by cell: a `test --json` document (or a merged one). Cells are found by
 * suite, image entry and Salt version; a cell of the configured Salt also by suite and image alone.
 */
export type Timings = Map<string, number>;

const timingKey = (suite: string, image: string, salt: string | undefined) => JSON.stringify([suite, image, salt ?? null]);

export function readTimings(doc: unknown): Timings {
  const timings: Timings = new Map();
  const cells = typeof doc === 'object' && doc !== null && Array.isArray((doc as { cells?: unknown }).cells) ? (doc as { cells: unknown[] }).cells : [];
  for (const cell of cells) {
    if (typeof cell !== 'object' || cell === null) continue;
    const { suite, imageName, image, salt, durationMs } = cell as Record<string, unknown>;
    const name = typeof imageName === 'string' ? imageName : image;
    if (typeof suite !== 'string' || typeof name !== 'string' || typeof durationMs !== 'number' || durationMs <= 0) continue;
    timings.set(timingKey(suite, name, typeof salt === 'string' ? salt : undefined), durationMs);
    timings.set(timingKey(suite, name, undefined), durationMs);
  }
  return timings;
}

function durationOf(cell: CellSpec, timings: Timings): number | undefined {
  return timings.get(timingKey(cell.suite.name, cell.image.name, cell.salt)) ?? (cell.salt === undefined ? timings.get(timingKey(cell.suite.name, cell.image.name, undefined)) : undefined);
}

/**
 * The cells of one shard, in their stable order. Without timings: every n-th cell of the sorted list
 * (round robin). With timings: longest first to the shard with the least time so far (ties: the lower
 * shard), a cell the timings lack counted as their median; the split depends only on the cells and
 * the timings, so every job computes the same one.
 */
export function shardCells(cells: readonly CellSpec[], shard: Shard, timings?: Timings): CellSpec[] {
  const sorted = sortCells(cells);
  if (!timings || timings.size === 0) return sorted.filter((_, i) => i % shard.count === shard.index - 1);
  const known = sorted.map((c) => durationOf(c, timings)).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const fallback = known.length ? known[Math.floor(known.length / 2)] : 1;
  const weighted = sorted.map((cell, order) => ({ cell, order, ms: durationOf(cell, timings) ?? fallback }));
  // Longest first; equal durations keep the stable order.
  weighted.sort((a, b) => b.ms - a.ms || a.order - b.order);
  const load = new Array<number>(shard.count).fill(0);
  const mine = new Set<number>();
  for (const { order, ms } of weighted) {
    let target = 0;
    for (let i = 1; i < shard.count; i++) if (load[i] < load[target]) target = i;
    load[target] += ms;
    if (target === shard.index - 1) mine.add(order);
  }
  return sorted.filter((_, order) => mine.has(order));
}
