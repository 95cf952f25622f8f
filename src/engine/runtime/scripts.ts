/**
 * The fixed Python programs the runtime's build runs on this machine, with the Python it builds the
 * runtime from (Debian's, started through Debian's own loader). Constants: paths reach them as argv.
 */

/**
 * argv[1] = a Debian python3.X standard library (usr/lib/python3.X), argv[2] = the zip to write.
 * Compiles every module to bytecode (unchecked hash: valid whatever the mtimes) and stores only the
 * bytecode, deflated, in one zip the interpreter imports from (lib/python3X.zip is on its default
 * sys.path): one file to ship and remove instead of 500. Left out: what Salt never runs in a
 * container (test suites, IDLE, Tk, turtle, lib2to3, ensurepip's wheels, pydoc's topics), what
 * needs a C extension the runtime does not ship (sqlite3, curses), and Debian's pointers into /etc
 * (sitecustomize). Prints {"python": "3.11.2", "modules": N}.
 */
export const STDLIB_ZIP = `
import importlib._bootstrap_external as bootstrap, importlib.util, json, os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
SKIP_TOP = {"test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip", "lib2to3", "pydoc_data", "sqlite3", "curses",
            "lib-dynload", "site-packages", "dist-packages", "sitecustomize.py", "__phello__", "__hello__.py", "antigravity.py", "this.py"}
SKIP_ANYWHERE = {"test", "tests", "idle_test", "__pycache__"}
count = 0
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        top = rel == "."
        dirs[:] = sorted(d for d in dirs if d not in (SKIP_TOP if top else SKIP_ANYWHERE) and d not in SKIP_ANYWHERE)
        for name in sorted(files):
            if not name.endswith(".py") or (top and name in SKIP_TOP):
                continue
            member = os.path.normpath(os.path.join(rel, name))
            with open(os.path.join(root, name), "rb") as f:
                source = f.read()
            code = compile(source, "python%d.%d/%s" % (sys.version_info[0], sys.version_info[1], member), "exec", dont_inherit=True)
            data = bootstrap._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
            info = zipfile.ZipInfo(member[:-3] + ".pyc", (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, bytes(data))
            count += 1
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "modules": count}))
`;

/**
 * Run by a just-built runtime on this machine (same architecture): imports what Salt needs of it, C
 * extensions and OpenSSL included, and prints {"python", "prefix", "openssl"}. A build that fails
 * this is not kept.
 */
export const CHECK_RUNTIME = `
import ctypes, hashlib, json, lzma, bz2, ssl, sys, uuid, decimal, zlib, pyexpat, select, socket, _ctypes, crypt, tarfile, zipfile
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix, "openssl": ssl.OPENSSL_VERSION}))
`;
