/**
 * A matrix's cells: every suite x image (its includes/excludes applied) x Salt version, narrowed by
 * the filters a run was given (`--suite`, `--image`, `--salt`, or a test item picked in VS Code).
 */
import type { ImageEntry, InitSpec, Matrix, Suite } from './matrix';

export type PhaseName = 'converge' | 'idempotence' | 'verify' | CheckPhase;
/** The check phases after verify (checks.ts), in their order. */
export const CHECK_PHASES = ['saltcheck', 'testinfra', 'shell', 'inspec'] as const;
export type CheckPhase = (typeof CHECK_PHASES)[number];

export interface CellSpec {
  /** `SUITE.IMAGE@SALT` (the configured Salt's version, or `default` when unknown): unique in the matrix; the JUnit classname. */
  key: string;
  suite: Suite;
  image: ImageEntry;
  /** A Salt version, or undefined for the configured Salt source (named `default` in keys). */
  salt?: string;
  init?: InitSpec;
  /** The phases this cell reports, in order. */
  phases: PhaseName[];
}

export interface CellFilter {
  suites?: string[];
  /** Image names or references; `NAME=REF` also runs that image entry's cells on the image REF instead. */
  images?: string[];
  salt?: string[];
  /** Cell keys. */
  keys?: string[];
}

export class FilterError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

/** A few names of a long list (a kitchen.yml may have 70 platforms): the first ones and how many more. */
function someOf(names: string[], shown = 8): string {
  if (names.length === 0) return 'none';
  return names.length > shown ? `${names.slice(0, shown).join(', ')} and ${names.length - shown} more` : names.join(', ');
}

export const DEFAULT_SALT = 'default';

export function cellKey(suite: string, image: string, salt: string | undefined): string {
  return `${suite}.${image}@${salt ?? DEFAULT_SALT}`;
}

export function phasesOf(suite: Suite): PhaseName[] {
  const checks = CHECK_PHASES.filter((phase) => suite.checks?.[phase] !== undefined);
  return ['converge', ...(suite.idempotence ? (['idempotence'] as const) : []), ...(suite.verify.length ? (['verify'] as const) : []), ...checks];
}

const matches = (image: ImageEntry, names: readonly string[]) => names.includes(image.name) || names.includes(image.image);

export function imagesOf(matrix: Matrix, suite: Suite): ImageEntry[] {
  return matrix.images.filter((image) => (!suite.includes || matches(image, suite.includes)) && !(suite.excludes && matches(image, suite.excludes)));
}

/**
 * Every cell of the matrix, suites first, then images, then Salt versions (the order they are listed).
 * `configuredSalt`: the version of the configured Salt source, for the keys of cells that use it.
 */
export function allCells(matrix: Matrix, configuredSalt?: string): CellSpec[] {
  const versions: (string | undefined)[] = matrix.salt.length ? matrix.salt : [undefined];
  return matrix.suites.flatMap((suite) =>
    imagesOf(matrix, suite).flatMap((image) =>
      versions.map((salt) => ({ key: cellKey(suite.name, image.name, salt ?? configuredSalt), suite, image, salt, init: image.init ?? suite.init, phases: phasesOf(suite) })),
    ),
  );
}

/**
 * The cells a run asks for. A filter that names what the matrix does not have is an error (a typo
 * must not pass as "0 cells, all passed"); `salt` on a matrix without Salt versions runs that version.
 */
export function selectCells(matrix: Matrix, filter: CellFilter = {}, configuredSalt?: string): CellSpec[] {
  const unknown = (what: string, asked: string[] | undefined, known: string[], listed = known, hint?: string) => {
    const missing = (asked ?? []).filter((name) => !known.includes(name));
    if (missing.length) throw new FilterError(`no ${what} ${missing.join(', ')} in ${matrix.file} (it has: ${someOf(listed)})`, hint);
  };
  unknown('suite', filter.suites, matrix.suites.map((s) => s.name));
  // Images are picked by name or by reference; their names say it in fewer words.
  const imageHint = '--image picks among the images the matrix names; NAME=IMAGE runs that entry on another image (e.g. --image debian-12=debian:12).';
  const swaps = new Map<string, string>();
  const picked = filter.images?.map((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) return entry;
    const [name, ref] = [entry.slice(0, at), entry.slice(at + 1)];
    if (!ref) throw new FilterError(`--image ${entry} names no image after =`, imageHint);
    swaps.set(name, ref);
    return name;
  });
  unknown('image', picked, [...new Set(matrix.images.flatMap((i) => [i.name, i.image]))], [...new Set(matrix.images.map((i) => i.name))], imageHint);
  if (matrix.salt.length) unknown('Salt version', filter.salt, matrix.salt);
  const versioned = !matrix.salt.length && filter.salt?.length ? { ...matrix, salt: filter.salt } : matrix;
  let cells = allCells(versioned, configuredSalt);
  if (filter.suites?.length) cells = cells.filter((c) => filter.suites!.includes(c.suite.name));
  if (picked?.length) cells = cells.filter((c) => matches(c.image, picked));
  // The entry keeps its name (cell keys, JUnit classnames); only the image its container comes from changes.
  if (swaps.size) cells = cells.map((c) => {
    const ref = swaps.get(c.image.name) ?? swaps.get(c.image.image);
    return ref ? { ...c, image: { ...c.image, image: ref } } : c;
  });
  if (filter.salt?.length) cells = cells.filter((c) => c.salt !== undefined && filter.salt!.includes(c.salt));
  if (filter.keys) {
    const keys = new Set(filter.keys);
    cells = cells.filter((c) => keys.has(c.key));
  }
  return cells;
}
