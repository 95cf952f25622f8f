/**
 * The fixed Python programs the engine runs, on the host (thin generation) and in containers (the
 * run's entry point, cleanup). They are constants: user input reaches them only as argv elements.
 * Each lives in its own file under py/ (bundled as text); test/integration/python.test.ts compiles
 * them under every Python the engine runs them on.
 */
import CATALOGUE_GENERATOR_PY from './py/catalogue_generator.py';
import CLEANUP_PY from './py/cleanup.py';
import COMPILE_THIN_PY from './py/compile_thin.py';
import ENTRY_POINT_PY from './py/entry_point.py';
import GENERATE_THIN_PY from './py/generate_thin.py';
import LOADER_REASONS_PY from './py/loader_reasons.py';
import LOCKED_REQUIREMENTS_PY from './py/locked_requirements.py';
import PROBE_SALT_PY from './py/probe_salt.py';
import RUN_BODY_PY from './py/run_body.py';
import TAR_HELPERS from './py/tar_helpers.py';
import UNPACKER_PY from './py/unpacker.py';

/** Host: prints {"salt": version, "python": "3.11"} for the Python that has Salt. */
export const PROBE_SALT = PROBE_SALT_PY;

/**
 * Host, the Python with Salt: argv[1] = a new empty directory. Generates Salt's thin with Salt's own
 * generator and writes there thin.tar (its sources) and meta.json ({salt, python, files, bytes,
 * packages}). Left out: the bundled libraries' own test suites, and the C extensions (.so): runs unpack
 * into /dev/shm, which Docker mounts noexec, so they could not load there, and every package in the
 * thin that has one falls back to pure Python (salt-call measured as fast without them).
 * `packages`: what each top-level package of the thin is ({name, dist, version, requiresPython,
 * compiled, pure}): its distribution's Requires-Python (importlib.metadata), the ABI tags of the
 * compiled files it was installed with (cpython-311, abi3), and whether it imports without them (a
 * Python started with -I -S over the thin alone): the choice of the container's Python reads them
 * (runtime/choose.ts), as the dependencies pip chose for this Python may not run on an older one.
 * Uncompressed: unpacking a plain tar costs less than inflating one.
 */
export const GENERATE_THIN = TAR_HELPERS + GENERATE_THIN_PY;

/**
 * The Salt venv's Python: argv[1] = a folder holding one Salt sdist (pip download), argv[2] = the file
 * to write. Copies there the sdist's lock file for this Python on Linux,
 * requirements/static/pkg/py3.X/linux.txt (linux.lock from 3008.2 on), or the nearest lower Python's
 * when there is none for this one (the oldest when all are newer); prints its path in the sdist.
 * Windows and macOS pins in it carry markers pip honours.
 */
export const LOCKED_REQUIREMENTS = LOCKED_REQUIREMENTS_PY;

/**
 * Host, any Python 3 (the version a container has): argv[1] = thin.tar, argv[2] = the tar to write.
 * Precompiles every module of the thin for this Python (unchecked-hash .pyc: valid whatever the files'
 * mtimes) and writes the bytecode with each compiled source left empty: the import system still finds
 * the module by its .py name, and unchecked-hash bytecode never reads the source, so a run ships 40%
 * fewer bytes and compiles nothing. Prints {python, files, bytes}.
 */
export const COMPILE_THIN = TAR_HELPERS + COMPILE_THIN_PY;

/**
 * The state catalogue (src/sls/catalogue.ts), made by a Python with Salt (the host's, or a helper's on
 * the engine): argv[1] a private temp dir, argv[2] the output file.
 */
export const CATALOGUE_GENERATOR = CATALOGUE_GENERATOR_PY;

/**
 * Python (any 3.x) defining make_unpacker(src, here) -> unpack(size): reads one tar of `size` bytes
 * from the binary stream src and writes its directories and regular files under `here`. It knows ustar
 * prefixes, pax and GNU long names; it refuses absolute and `..` paths.
 * Faster than tarfile: it only does what these tars need.
 */
export const UNPACKER = UNPACKER_PY;

/** The first line the run's entry point prints: this prefix, then JSON ({dir, python}, or {python} from a Python 2). */
export const HELLO = 'salt-containers-hello ';
/** Written in the run bundle's minion config where the run directory goes; the entry point puts it in. */
export const RUN_DIR_MARK = '@SALT_CONTAINERS_RUN_DIR@';
/** The same for Salt's cachedir, which the entry point keeps on disk (see RUN). */
export const CACHE_DIR_MARK = '@SALT_CONTAINERS_CACHE_DIR@';
/** A line on stderr with this prefix: the entry point could not set the run up (the rest says why). */
export const SETUP_ERROR = 'salt-containers-error ';
/**
 * The last line on stderr of a run that logged: this prefix, then what Salt wrote to its log file
 * during the run as a JSON string. Salt puts the reason of a pillar render failure only there (its
 * output says "Please see master log for details"), and the log goes with the run directory.
 */
export const SALT_LOG = 'salt-containers-log ';

/** The line of entry_point.py that the body replaces, indented as the body goes (a comment: the file stays valid Python). */
const BODY_LINE = '    # @BODY@\n';

/**
 * Container: the whole run in one exec, `python -c RUN NAME shm|tmp NEED SALT-ARGS...` (py/entry_point.py
 * around py/run_body.py). It
 *   - makes the run's private directory NAME under /dev/shm when that is a tmpfs with NEED bytes and
 *     room to spare (files there never touch the container's disk, which is what unpacking 2,500
 *     files costs), else under /tmp;
 *   - keeps Salt's cachedir (copies of salt:// files, downloads of remote sources) on disk as a minion
 *     does, in /tmp/NAME, else in the run directory: a large download must not fill /dev/shm;
 *   - leads its own process group and records it in both (a cancel kills salt-call and all it spawned);
 *   - greets (HELLO + {dir, python}): the engine then sends the thin precompiled for that Python;
 *   - sweeps run directories that earlier runs could not remove (their process is gone);
 *   - reads from stdin a line with the sizes of the tars that follow (the run's bundle, the thin) and
 *     unpacks them; puts the directories into the bundle's minion config (RUN_DIR_MARK, CACHE_DIR_MARK);
 *   - makes the container's own facts what Salt sees: the shell grain a shell the container has (an
 *     image's SHELL may name one it lacks), root's account when the image has no /etc/passwd entry;
 *   - has a KeyError for an execution function whose module did not load say why, in Salt's words
 *     (py/loader_reasons.py: a state's traceback ends "KeyError: 'ssh.set_auth_key': 'ssh' __virtual__
 *     returned False: The module requires the ssh binary.");
 *   - runs salt-call from the thin with `-c DIR/conf` and the SALT-ARGS, and removes its directories
 *     on the way out, whatever happened. Salt's temporary files stay where a minion has them (/tmp): a
 *     script that cmd.script runs from there must be executable, also by a `runas` user, and
 *     /dev/shm is noexec and the run directory private.
 * The engine's options come in its environment, taken out of it at once (nothing Salt starts sees them):
 *   - SALT_CONTAINERS_PYTHONS (major.minor versions, space-separated; default: any): the Pythons that
 *     can run the thin (runtime/choose.ts pythonRule); another one (or a Python 2) stops at once,
 *     greeting with its version only;
 *   - SALT_CONTAINERS_RUNTIME: the bundled runtime's directory, when that is the Python running this
 *     (runtime/): ctypes then finds the runtime's own libraries first (Salt looks up libcrypto and
 *     libc, and a container has no ldconfig to ask, or another libc), its zipped standard library keeps
 *     its index, and the directory is removed at the very end too.
 * It stays Python 2 syntax up to the version check, so an old `python` says what it is (and stops).
 */
export const RUN = entryPoint(RUN_BODY_PY);

/**
 * The entry point around `body`: everything RUN does but running Salt, which `body` does (Python at
 * the top level, as py/run_body.py is, put indented into the main block at entry_point.py's `# @BODY@`
 * line, with `here`, `cache`, `code` and `salt_log` in scope; exiting or raising SystemExit ends the
 * run, and both directories are removed whatever happens). A warm session (engine/session) has its own body.
 */
export function entryPoint(body: string): string {
  const marks = { HELLO, SALT_LOG, SETUP_ERROR, RUN_DIR_MARK, CACHE_DIR_MARK };
  const [before, after, ...more] = fillPython(ENTRY_POINT_PY, marks).split(BODY_LINE);
  if (after === undefined || more.length) throw new Error(`entry_point.py must hold the line '${BODY_LINE.trim()}' once`);
  const indented = body.replace(/^(?=.)/gm, '    ');
  return UNPACKER + LOADER_REASONS_PY + before + indented + after;
}

/**
 * `source` with each `@NAME@` placeholder replaced by values[NAME], in one pass (a value is never
 * scanned again): the container-side Python names the engine's protocol constants this way, so its
 * files stay valid Python and each constant has one home, in the TypeScript. A placeholder without a value, or a
 * value without its placeholder, is a mistake in the scripts: it throws (at import, so every test sees it).
 */
export function fillPython(source: string, values: Record<string, string>): string {
  const unused = new Set(Object.keys(values));
  const filled = source.replace(/@([A-Z][A-Z_]*)@/g, (placeholder, name: string) => {
    if (name === 'BODY') return placeholder;
    if (!(name in values)) throw new Error(`no value for the placeholder ${placeholder} in the Python`);
    unused.delete(name);
    return values[name];
  });
  if (unused.size) throw new Error(`no placeholder in the Python for ${[...unused].join(', ')}`);
  return filled;
}

/**
 * Container: argv[1] = the run directory's name, under /dev/shm or /tmp; argv[2:] = other directories
 * of the run (the bundled runtime's, absolute). Stops the run if it is still running (waiting briefly
 * for its pid file, as a cancel can come before salt-call starts): asks its entry point to kill and
 * reap what it started (SIGUSR2), then kills its process group whatever is left; then removes the
 * directories.
 */
export const CLEANUP = CLEANUP_PY;
