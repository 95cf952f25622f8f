/**
 * Finding and reading a matrix file: `salt-containers.yml` in a folder, else its `kitchen.yml` (or
 * `.kitchen.yml`). Either comes out as the same Matrix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { findRoots } from '../sls/roots';
import { parseKitchen } from './kitchen';
import { MatrixError, parseMatrix, type Matrix } from './matrix';

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
  return isKitchenFile(path) ? parseKitchen(text, path, findRoots) : parseMatrix(text, path, findRoots);
}
