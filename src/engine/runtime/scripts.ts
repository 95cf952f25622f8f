/**
 * The fixed Python programs the runtime's build runs on this machine, with the Python it builds the
 * runtime from (Debian's, started through Debian's own loader). Constants: paths reach them as argv.
 * Each lives in its own file under py/ (bundled as text).
 */
import CHECK_RUNTIME_PY from './py/check_runtime.py';
import STDLIB_ZIP_PY from './py/stdlib_zip.py';

/**
 * argv[1] = a Debian python3.X standard library (usr/lib/python3.X), argv[2] = the zip to write.
 * Compiles every module to bytecode (unchecked hash: valid whatever the mtimes) and stores only the
 * bytecode, deflated, in one zip the interpreter imports from (lib/python3X.zip is on its default
 * sys.path): one file to ship and remove instead of 500. Left out: what Salt never runs in a
 * container (test suites, IDLE, Tk, turtle, lib2to3, ensurepip's wheels, pydoc's topics), what
 * needs a C extension the runtime does not ship (sqlite3, curses), and Debian's pointers into /etc
 * (sitecustomize). Prints {"python": "3.11.2", "modules": N}.
 */
export const STDLIB_ZIP = STDLIB_ZIP_PY;

/**
 * Run by a just-built runtime on this machine (same architecture): imports what Salt needs of it, C
 * extensions and OpenSSL included, and prints {"python", "prefix", "openssl"}. A build that fails
 * this is not kept.
 */
export const CHECK_RUNTIME = CHECK_RUNTIME_PY;
