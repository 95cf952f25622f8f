/**
 * The fixed Python programs the engine runs, on the host (thin generation) and in containers (the
 * run's entry point, cleanup). They are constants: user input reaches them only as argv elements.
 */

/** Host: prints {"salt": version, "python": "3.11"} for the Python that has Salt. */
export const PROBE_SALT = `
import json, sys
import salt.version
print(json.dumps({"salt": salt.version.__version__, "python": "%d.%d" % sys.version_info[:2]}))
`;

/**
 * Python (any 3.x) defining the tar helpers both thin scripts use: extract(tar, dest), and
 * write_tar(tree, path, skip, hollow) -> (files, bytes), which writes tree as an uncompressed tar of
 * root-owned entries in sorted order, leaving out what skip(path) names and emptying the files
 * hollow(path) names.
 */
const TAR_HELPERS = `
import io, os, tarfile
def extract(tar, dest):
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(dest)
def write_tar(tree, path, skip=lambda entry: False, hollow=lambda entry: False):
    files = size = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for root, dirs, names in os.walk(tree):
            dirs[:] = sorted(d for d in dirs if not skip(os.path.join(root, d)))
            for entry in [root] + [os.path.join(root, n) for n in sorted(names) if not skip(os.path.join(root, n))]:
                info = t.gettarinfo(entry, arcname=os.path.relpath(entry, tree))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                if not info.isfile():
                    t.addfile(info)
                    continue
                if hollow(entry):
                    info.size = 0
                    t.addfile(info, io.BytesIO(b""))
                else:
                    with open(entry, "rb") as f:
                        t.addfile(info, f)
                files += 1
                size += info.size
    return files, size
`;

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
export const GENERATE_THIN = `${TAR_HELPERS}
import json, shutil, sys, warnings
warnings.simplefilter("ignore")
import salt.utils.thin, salt.version
out = sys.argv[1]
tree = os.path.join(out, "tree")
extract(salt.utils.thin.gen_thin(os.path.join(out, "gen")), tree)
os.remove(os.path.join(tree, "salt-call"))  # the engine has its own entry point
for top in ("py3", "pyall"):
    for package in os.listdir(os.path.join(tree, top)):
        for tests in ("test", "tests"):
            if package != "salt" and os.path.isdir(os.path.join(tree, top, package, tests)):
                shutil.rmtree(os.path.join(tree, top, package, tests))
def binary(entry):
    return os.path.basename(entry) == "__pycache__" or entry.endswith((".so", ".pyc"))
files, size = write_tar(tree, os.path.join(out, "thin.tar"), skip=binary)
import importlib.metadata as metadata, re, subprocess
owners = metadata.packages_distributions() if hasattr(metadata, "packages_distributions") else {}
packages = []
for top in ("py3", "pyall"):
    for entry in sorted(os.listdir(os.path.join(tree, top))):
        name = entry[:-3] if entry.endswith(".py") else entry
        if name.startswith("__") or "." in name:
            continue
        package = {"name": name, "compiled": []}
        path = os.path.join(tree, top, entry)
        for root, dirs, names in os.walk(path) if os.path.isdir(path) else []:
            for so in (n for n in names if n.endswith(".so")):
                tag = re.match(r"^[^.]+\\.(cpython-\\d+|abi3|pypy\\d*[^.]*)", so)
                package["compiled"].append(tag.group(1) if tag else "untagged")
        package["compiled"] = sorted(set(package["compiled"]))
        for dist in owners.get(name, [])[:1]:
            found = metadata.distribution(dist)
            package.update(dist=found.metadata["Name"], version=found.version, requiresPython=found.metadata.get("Requires-Python"))
        packages.append(package)
# Whether each package imports from the thin without its compiled files (which the thin leaves out).
names = [p["name"] for p in packages if p["compiled"]]
check = "import importlib, json, sys\\nsys.path[0:0] = sys.argv[1:3]\\nfailed = []\\nfor n in sys.argv[3:]:\\n    try:\\n        importlib.import_module(n)\\n    except Exception:\\n        failed.append(n)\\nprint(json.dumps(failed))"
for root, dirs, names_ in os.walk(tree):
    for n in names_:
        if n.endswith(".so"):
            os.remove(os.path.join(root, n))
failed = json.loads(subprocess.run([sys.executable, "-I", "-S", "-B", "-c", check, os.path.join(tree, "pyall"), os.path.join(tree, "py3")] + names, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]) if names else []
for p in packages:
    p["pure"] = p["name"] not in failed
meta = {"salt": salt.version.__version__, "python": "%d.%d" % sys.version_info[:2], "files": files, "bytes": size, "packages": packages}
with open(os.path.join(out, "meta.json"), "w") as f:
    json.dump(meta, f)
print(json.dumps(meta))
`;

/**
 * The Salt venv's Python: argv[1] = a folder holding one Salt sdist (pip download), argv[2] = the file
 * to write. Copies there the sdist's lock file for this Python on Linux,
 * requirements/static/pkg/py3.X/linux.txt (linux.lock from 3008.2 on), or the nearest lower Python's
 * when there is none for this one (the oldest when all are newer); prints its path in the sdist.
 * Windows and macOS pins in it carry markers pip honours.
 */
export const LOCKED_REQUIREMENTS = String.raw`
import os, re, sys, tarfile
folder, out = sys.argv[1], sys.argv[2]
sdists = [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith((".tar.gz", ".tgz"))]
if not sdists:
    sys.exit("pip downloaded no sdist")
with tarfile.open(sdists[0]) as t:
    found = {}
    for member in t.getmembers():
        match = re.search(r"/requirements/static/pkg/py(\d+)\.(\d+)/linux\.(txt|lock)$", member.name)
        if match:
            found[(int(match.group(1)), int(match.group(2)))] = member
    if not found:
        sys.exit("no requirements/static/pkg/py3.X/linux.txt or .lock in " + os.path.basename(sdists[0]))
    lower = [v for v in found if v <= sys.version_info[:2]]
    member = found[max(lower) if lower else min(found)]
    with open(out, "wb") as f:
        f.write(t.extractfile(member).read())
print(member.name.split("/", 1)[1])
`;

/**
 * Host, any Python 3 (the version a container has): argv[1] = thin.tar, argv[2] = the tar to write.
 * Precompiles every module of the thin for this Python (unchecked-hash .pyc: valid whatever the files'
 * mtimes) and writes the bytecode with each compiled source left empty: the import system still finds
 * the module by its .py name, and unchecked-hash bytecode never reads the source, so a run ships 40%
 * fewer bytes and compiles nothing. Prints {python, files, bytes}.
 */
export const COMPILE_THIN = `${TAR_HELPERS}
import compileall, json, py_compile, shutil, sys, tempfile, warnings
warnings.simplefilter("ignore")
work = tempfile.mkdtemp(prefix="salt-containers-compile-")
try:
    extract(sys.argv[1], work)
    compileall.compile_dir(work, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    tag = sys.implementation.cache_tag
    def compiled(entry):
        d, name = os.path.split(entry)
        return entry.endswith(".py") and os.path.exists(os.path.join(d, "__pycache__", name[:-3] + "." + tag + ".pyc"))
    files, size = write_tar(work, sys.argv[2], hollow=compiled)
    print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "files": files, "bytes": size}))
finally:
    shutil.rmtree(work, ignore_errors=True)
`;

/**
 * The state catalogue (src/sls/catalogue.ts), made by a Python with Salt (the host's, or a helper's on
 * the engine): argv[1] a private temp dir, argv[2] the output file.
 */
export const CATALOGUE_GENERATOR = String.raw`
import json, os, sys
tmp, out = sys.argv[1], sys.argv[2]
import salt.client, salt.config, salt.version
conf = os.path.join(tmp, "minion")
paths = {k: os.path.join(tmp, k) for k in ("cache", "pki", "sock", "ext", "srv", "pillar")}
for p in paths.values():
    os.makedirs(p, exist_ok=True)
with open(conf, "w") as f:
    json.dump({
        "id": "salt-containers-catalogue", "file_client": "local", "cachedir": paths["cache"],
        "pki_dir": paths["pki"], "sock_dir": paths["sock"], "extension_modules": paths["ext"],
        "log_file": os.path.join(tmp, "log"), "log_level": "quiet", "log_level_logfile": "quiet",
        "file_roots": {"base": [paths["srv"]]}, "pillar_roots": {"base": [paths["pillar"]]},
        "grains_cache": False,
    }, f)
opts = salt.config.minion_config(conf)
caller = salt.client.Caller(mopts=opts)
names = caller.cmd("sys.list_state_functions")
docs = caller.cmd("sys.state_doc")
functions, modules = {}, {}
module_names = sorted({n.split(".")[0] for n in names})
for module in module_names:
    modules[module] = docs.get(module) or ""
# One call for every function (a glob): each call builds a fresh states loader (seconds).
specs = caller.cmd("sys.state_argspec", "*") or {}
for name, spec in specs.items():
    if name not in names or not isinstance(spec, dict):
        continue
    args = list(spec.get("args") or [])
    defaults = list(spec.get("defaults") or [])
    first_default = len(args) - len(defaults)
    entries = []
    for i, arg in enumerate(args):
        entry = {"name": arg}
        if i >= first_default:
            entry["default"] = repr(defaults[i - first_default])
        entries.append(entry)
    functions[name] = {"args": entries, "kwargs": bool(spec.get("kwargs")), "doc": docs.get(name) or ""}
import re, salt.states
shipped = set(modules)
states_dir = os.path.dirname(salt.states.__file__)
for entry in os.listdir(states_dir):
    if not entry.endswith(".py") or entry.startswith("_"):
        continue
    shipped.add(entry[:-3])
    try:
        with open(os.path.join(states_dir, entry), encoding="utf-8", errors="replace") as source:
            found = re.search(r"^__virtualname__\s*=\s*['\"]([\w]+)['\"]", source.read(), re.M)
        if found:
            shipped.add(found.group(1))
    except OSError:
        pass
for name in names:
    functions.setdefault(name, {"args": [], "kwargs": True, "doc": docs.get(name) or ""})
with open(out, "w") as f:
    json.dump({"saltVersion": salt.version.__version__, "python": sys.executable, "functions": functions, "modules": modules, "shippedModules": sorted(shipped)}, f)
`;

/**
 * Python (any 3.x) defining make_unpacker(src, here) -> unpack(size): reads one tar of `size` bytes
 * from the binary stream src and writes its directories and regular files under `here`. It knows ustar
 * prefixes, pax and GNU long names; it refuses absolute and `..` paths.
 * Faster than tarfile: it only does what these tars need.
 */
export const UNPACKER = `
import os, sys
def make_unpacker(src, here):
    def read(n):
        data = src.read(n)
        if len(data) != n:
            raise EOFError("the engine stopped sending")
        return data
    made = set([here])
    def unpack(size):
        done, long_name = 0, None
        while done < size:
            header = read(512)
            done += 512
            if not header.strip(b"\\0"):
                continue  # end-of-archive and padding blocks
            length = int(header[124:136].strip(b"\\0 ") or b"0", 8)
            data = read(length)
            pad = -length % 512
            read(pad)
            done += length + pad
            kind = header[156:157]
            if kind in (b"x", b"L"):  # pax or GNU long name for the next entry
                text = data.rstrip(b"\\0").decode()
                long_name = text if kind == b"L" else next((r.split("=", 1)[1] for r in text.split("\\n") if r.split(" ", 1)[-1].startswith("path=")), long_name)
                continue
            if kind == b"g":
                continue
            path = long_name or header[:100].rstrip(b"\\0").decode()
            prefix = header[345:500].rstrip(b"\\0").decode() if not long_name else ""
            long_name = None
            path = (prefix + "/" + path if prefix else path).rstrip("/")
            if path.startswith("/") or ".." in path.split("/"):
                raise ValueError("unsafe path in the payload: " + path)
            target = os.path.join(here, path)
            if kind == b"5":
                if target not in made:
                    os.makedirs(target, exist_ok=True)
                    made.add(target)
                continue
            if kind not in (b"0", b"\\0"):
                continue
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(header[100:108].strip(b"\\0 ") or b"644", 8) & 0o777)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
    return unpack
`;

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

/**
 * Container: the whole run in one exec, `python -c RUN NAME shm|tmp NEED SALT-ARGS...`. It
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
export const RUN = entryPoint(`
    # Salt reads nothing from the engine: give it an empty stdin, as a minion has.
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.path[0:0] = [os.path.join(here, "pyall"), os.path.join(here, "py3")]
    from salt.scripts import salt_call
    sys.argv = ["salt-call", "-c", os.path.join(here, "conf")] + sys.argv[4:]
    try:
        salt_call()
    finally:
        sys.stderr.flush()
        report_log(2, os.path.join(here, "log"))
    code = 0`);

/**
 * The entry point around `body`: everything RUN does but running Salt, which `body` does (Python at
 * the indentation of RUN's main block, with `here`, `cache`, `code` and `salt_log` in scope; exiting or raising
 * SystemExit ends the run, and both directories are removed whatever happens). A warm session
 * (engine/session) has its own body.
 */
export function entryPoint(body: string): string {
  return `${UNPACKER}
def hello(info):
    import json
    sys.stdout.write("${HELLO}" + json.dumps(info) + "\\n")
    sys.stdout.flush()
def salt_log(path, spans):
    """What Salt logged to path in spans ((start, end or None) byte ranges; the last 256 KB), as the engine's SALT_LOG line."""
    data = b""
    try:
        with open(path, "rb") as f:
            for start, end in spans:
                f.seek(start)
                data += f.read() if end is None else f.read(max(0, end - start))
    except (OSError, ValueError):
        return b""
    data = data[-(256 << 10):]
    import json
    return ("${SALT_LOG}" + json.dumps(data.decode("utf-8", "replace")) + "\\n").encode() if data else b""
def report_log(fd, path):
    data = salt_log(path, [(0, None)])
    while data:
        data = data[os.write(fd, data):]
version = "%d.%d" % sys.version_info[:2]
accepted = os.environ.pop("SALT_CONTAINERS_PYTHONS", version).split()
runtime = os.environ.pop("SALT_CONTAINERS_RUNTIME", None)
if version not in accepted:
    hello({"python": version})
    sys.exit(3)
import glob, shutil, time
name, where, need = sys.argv[1], sys.argv[2], int(sys.argv[3])
SHM, TMP, SPARE = "/dev/shm", "/tmp", 16 << 20
def shm_unfit():
    """Why /dev/shm cannot take this run, or None when it can."""
    if where != "shm":
        return "/dev/shm is shared with the host or another container"
    try:
        with open("/proc/self/mountinfo") as f:
            if not any(line.split()[4] == SHM and line.split(" - ")[1].split()[0] == "tmpfs" for line in f):
                return "/dev/shm is not a tmpfs"
        st = os.statvfs(SHM)
        if not os.access(SHM, os.W_OK):
            return "/dev/shm is not writable"
        if st.f_bavail * st.f_frsize < need + SPARE:
            return "/dev/shm has %d MB free, the run needs %d MB and leaves %d MB" % (st.f_bavail * st.f_frsize >> 20, need >> 20, SPARE >> 20)
    except Exception as error:
        return "/dev/shm: %s" % error
    return None
def setup_error(message):
    sys.stderr.write("${SETUP_ERROR}" + message + "\\n")
    sys.exit(1)
unfit = shm_unfit()
here = os.path.join(TMP if unfit else SHM, name)
try:
    os.mkdir(here, 0o700)
except OSError as error:
    setup_error("could not make the run directory %s: %s%s" % (here, error.strerror, "; " + unfit if unfit else ""))
cache = os.path.join(TMP, name) if not unfit else os.path.join(here, "cache")
ours = [here]
code = 1
try:
    try:
        os.mkdir(cache, 0o700)
    except OSError:
        cache = os.path.join(here, "cache")  # /tmp is read-only: the cache goes with the run
        os.mkdir(cache, 0o700)
    ours += [cache] + ([runtime] if runtime else [])
    try:
        os.setpgrp()
    except OSError:
        pass  # docker exec made us a session leader: already the leader of our own group
    try:
        import ctypes
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: what the run orphans comes back here
    except Exception:
        pass
    import signal
    def stop_group(signum, frame):
        # The engine's cancel: what this run started is killed and reaped here (a container's PID 1,
        # often a sleep, reaps nothing: killed from outside they stayed zombies), then the directories go.
        me, group = os.getpid(), os.getpgrp()
        for entry in os.listdir("/proc"):
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if entry.isdigit() and int(entry) != me and int(f.read().rsplit(")", 1)[1].split()[2]) == group:
                        os.kill(int(entry), signal.SIGKILL)
            except Exception:
                pass
        deadline = time.time() + 2
        while time.time() < deadline:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    time.sleep(0.01)
            except ChildProcessError:
                break
        for d in ours:
            shutil.rmtree(d, ignore_errors=True)
        os._exit(130)
    signal.signal(signal.SIGUSR2, stop_group)
    for d in set(ours):
        with open(os.path.join(d, "pid"), "w") as f:
            f.write(str(os.getpgrp()))
    try:
        import fcntl
        fcntl.fcntl(0, 1031, 1 << 20)  # F_SETPIPE_SZ: a 1 MB pipe lets the engine run ahead of the writes
    except Exception:
        pass
    hello({"dir": here, "python": version})
    bases = set([SHM, TMP] + ([os.path.dirname(runtime)] if runtime else []))
    for stale in [entry for base in bases for entry in glob.glob(os.path.join(base, "salt-containers.*"))]:
        if stale in ours:
            continue
        try:
            with open(os.path.join(stale, "pid")) as f:
                os.kill(int(f.read()), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except FileNotFoundError:
            # No pid: a run that never started, or one starting right now; only old ones are stale.
            if time.time() - os.path.getmtime(stale) > 600:
                shutil.rmtree(stale, ignore_errors=True)
        except Exception:
            pass
    if os.environ.get("SHELL") and not os.access(os.environ["SHELL"], os.X_OK):
        os.environ["SHELL"] = "/bin/sh"
    import pwd
    try:
        pwd.getpwuid(0)
    except KeyError:
        # No /etc/passwd entry for root (an image FROM scratch): Salt asks for its user at import.
        root = pwd.struct_passwd(("root", "x", 0, 0, "root", "/root", "/bin/sh"))
        getpwuid, getpwnam = pwd.getpwuid, pwd.getpwnam
        pwd.getpwuid = lambda uid: root if uid == 0 else getpwuid(uid)
        pwd.getpwnam = lambda user: root if user == "root" else getpwnam(user)
    if runtime:
        import ctypes.util
        find_library, lib = ctypes.util.find_library, os.path.join(runtime, "lib")
        def bundled_first(library):
            for entry in sorted(os.listdir(lib)):
                if entry.startswith("lib%s.so" % library):
                    return os.path.join(lib, entry)
            return find_library(library)
        ctypes.util.find_library = bundled_first
        # Salt's loader invalidates the import caches hundreds of times a run, and a zipimporter then
        # re-reads its whole directory (in Python): a second per run for the runtime's standard library,
        # which cannot change while it runs.
        import zipimport
        invalidate = zipimport.zipimporter.invalidate_caches
        zipimport.zipimporter.invalidate_caches = lambda self: None if self.archive.startswith(lib + os.sep) else invalidate(self)
    unpack = make_unpacker(sys.stdin.buffer, here)
    try:
        sizes = [int(n) for n in sys.stdin.buffer.readline().split()]
        for size in sizes:
            unpack(size)
        conf = os.path.join(here, "conf", "minion")
        with open(conf) as f:
            text = f.read().replace("${RUN_DIR_MARK}", here).replace("${CACHE_DIR_MARK}", cache)
        with open(conf, "w") as f:
            f.write(text)
    except Exception as error:
        setup_error("could not unpack Salt into %s: %s" % (here, getattr(error, "strerror", None) or error))${body}
except SystemExit as exit:
    code = exit.code
finally:
    try:
        # What died under us (orphans of daemons the states started came here): reaped, not left to PID 1.
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except OSError:
        pass
    shutil.rmtree(here, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    if runtime:
        # Last: this interpreter runs from there. Nothing is imported after it.
        sys.stdout.flush()
        sys.stderr.flush()
        shutil.rmtree(runtime, ignore_errors=True)
sys.exit(code)
`;
}

/**
 * Container: argv[1] = the run directory's name, under /dev/shm or /tmp; argv[2:] = other directories
 * of the run (the bundled runtime's, absolute). Stops the run if it is still running (waiting briefly
 * for its pid file, as a cancel can come before salt-call starts): asks its entry point to kill and
 * reap what it started (SIGUSR2), then kills its process group whatever is left; then removes the
 * directories.
 */
export const CLEANUP = `
import os, shutil, signal, sys, time
dirs = [os.path.join(base, sys.argv[1]) for base in ("/dev/shm", "/tmp")] + sys.argv[2:]
for _ in range(20):
    if any(os.path.exists(os.path.join(d, "pid")) for d in dirs) or not any(os.path.isdir(d) for d in dirs):
        break
    time.sleep(0.05)
for here in dirs:
    try:
        with open(os.path.join(here, "pid")) as f:
            group = int(f.read())
    except Exception:
        group = None
    if group:
        try:
            os.kill(group, signal.SIGUSR2)
            for _ in range(150):
                os.kill(group, 0)
                time.sleep(0.02)
        except Exception:
            pass
        try:
            os.killpg(group, signal.SIGKILL)
        except Exception:
            pass
    shutil.rmtree(here, ignore_errors=True)
print("removed" if not any(os.path.exists(d) for d in dirs) else "left")
`;
