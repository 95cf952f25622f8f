/**
 * Finding and reading a matrix file: `salt-containers.yml` in a folder, else its `kitchen.yml` (or
 * `.kitchen.yml`). Either comes out as the same Matrix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { findRoots } from '../sls/roots';
import { parseKitchen } from './kitchen';
import { MatrixError, parseMatrix, type Matrix } from './matrix';
import { autoSaltcheck, autoTestinfra } from './checks';

export const MATRIX_FILE = 'salt-containers.yml';
export const KITCHEN_FILES = ['kitchen.yml', '.kitchen.yml'];

/** The matrix file of a folder: salt-containers.yml, else kitchen.yml, else .kitchen.yml. */
export function findMatrixFile(folder: string): string | undefined {
  return [MATRIX_FILE, ...KITCHEN_FILES].map((name) => join(folder, name)).find((file) => existsSync(file));
}

export function isKitchenFile(file: string): boolean {
  return /^\.?kitchen(\.[\w-]+)?\.ya?ml$/.test(basename(file));
}

/** Reads and parses a matrix file by its name; throws MatrixError saying what is wrong and where. */
export function loadMatrix(file: string): Matrix {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MatrixError(path, [{ message: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  return resolveChecks(isKitchenFile(path) ? parseKitchen(text, path, findRoots) : parseMatrix(text, path, findRoots));
}

/**
 * Each suite's checks after converge: the ones `verify:` names, and the automatic ones (saltcheck when
 * the suite's states have .tst tests; testinfra when test/testinfra/ or tests/testinfra/ has tests).
 */
export function resolveChecks(matrix: Matrix): Matrix {
  for (const suite of matrix.suites) {
    const asked = suite.verifyWith ?? {};
    const checks = { ...suite.checks };
    const saltcheck = asked.saltcheck === undefined ? autoSaltcheck(matrix.stateRoot, suite.states, suite.highstate) : asked.saltcheck === false ? undefined : { names: asked.saltcheck, highstate: false };
    if (saltcheck) checks.saltcheck = saltcheck;
    const testinfra = asked.testinfra === undefined ? autoTestinfra(matrix.dir, suite.name) : asked.testinfra || undefined;
    if (testinfra) checks.testinfra = testinfra;
    if (Object.keys(checks).length) suite.checks = checks;
  }
  return matrix;
}
