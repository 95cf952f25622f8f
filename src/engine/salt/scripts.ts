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
 * Host: argv[1] = a new empty directory. Generates Salt's thin with Salt's own generator, unpacks it,
 * precompiles every module (unchecked-hash .pyc: valid whatever the files' mtimes), and writes there:
 *   thin.tar      sources and bytecode, for containers whose Python differs from this one (the engine
 *                 then drops the bytecode and ships the sources);
 *   thin-pyc.tar  bytecode with each compiled source left empty: the import system still finds the
 *                 module by its .py name, and unchecked-hash bytecode never reads the source, so a
 *                 container with this Python gets 40% fewer bytes to unpack per run;
 *   meta.json.
 * Both are uncompressed: the engine unpacks a plain tar faster than a .tgz.
 */
export const GENERATE_THIN = `
import compileall, io, json, os, sys, tarfile, warnings
warnings.simplefilter("ignore")
import py_compile
import salt.utils.thin, salt.version
out = sys.argv[1]
tgz = salt.utils.thin.gen_thin(os.path.join(out, "gen"))
tree = os.path.join(out, "tree")
with tarfile.open(tgz) as t:
    t.extractall(tree, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(tree)
os.remove(os.path.join(tree, "salt-call"))  # the engine has its own entry point
compileall.compile_dir(tree, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
tag = sys.implementation.cache_tag
def compiled(path):
    d, name = os.path.split(path)
    return os.path.exists(os.path.join(d, "__pycache__", name[:-3] + "." + tag + ".pyc"))
stats = {}
for name, hollow in (("thin.tar", False), ("thin-pyc.tar", True)):
    files = size = 0
    with tarfile.open(os.path.join(out, name), "w", format=tarfile.PAX_FORMAT) as t:
        for root, dirs, names in os.walk(tree):
            dirs.sort()
            for entry in [root] + [os.path.join(root, n) for n in sorted(names)]:
                info = t.gettarinfo(entry, arcname=os.path.relpath(entry, tree))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                if info.isfile() and hollow and entry.endswith(".py") and compiled(entry):
                    info.size = 0
                    t.addfile(info, io.BytesIO(b""))
                elif info.isfile():
                    with open(entry, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
                if info.isfile():
                    files += 1
                    size += info.size
    stats[name] = {"files": files, "bytes": size}
meta = {"salt": salt.version.__version__, "python": "%d.%d" % sys.version_info[:2], "files": stats["thin-pyc.tar"]["files"], "bytes": stats["thin-pyc.tar"]["bytes"], "tars": stats}
with open(os.path.join(out, "meta.json"), "w") as f:
    json.dump(meta, f)
print(json.dumps(meta))
`;

/** Container: prints the interpreter's major.minor (also proves it runs). */
export const PROBE_PYTHON = 'import sys; print("%d.%d" % sys.version_info[:2])';

/**
 * Container: the run's entry point, T/run.py. It leads its own process group (so a cancel can
 * kill salt-call and everything it spawned), records the group id, sweeps run directories that earlier runs
 * could not remove (their process is gone), runs salt-call from the thin, and removes its own
 * directory on the way out, whatever happened.
 */
export const RUN_PY = `
import glob, os, shutil, sys, time
here = os.path.dirname(os.path.abspath(__file__))
code = 1
try:
    try:
        os.setpgrp()
    except OSError:
        pass  # docker exec made us a session leader: already the leader of our own group
    with open(os.path.join(here, "pid"), "w") as f:
        f.write(str(os.getpgrp()))
    for stale in glob.glob(os.path.join(os.path.dirname(here), "salt-containers.*")):
        if stale == here:
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
    sys.path[0:0] = [os.path.join(here, "pyall"), os.path.join(here, "py3")]
    from salt.scripts import salt_call
    sys.argv = ["salt-call"] + sys.argv[1:]
    salt_call()
    code = 0
except SystemExit as exit:
    code = exit.code
finally:
    shutil.rmtree(here, ignore_errors=True)
sys.exit(code)
`;

/**
 * Container: argv[1] = the run directory. Kills the run's process group if it is still running
 * (waiting briefly for its pid file, as a cancel can come before salt-call starts), then removes the
 * directory.
 */
export const CLEANUP = `
import os, shutil, signal, sys, time
here = sys.argv[1]
pid_file = os.path.join(here, "pid")
for _ in range(20):
    if os.path.exists(pid_file) or not os.path.isdir(here):
        break
    time.sleep(0.05)
try:
    with open(pid_file) as f:
        os.killpg(int(f.read()), signal.SIGKILL)
except Exception:
    pass
shutil.rmtree(here, ignore_errors=True)
print("removed" if not os.path.exists(here) else "left")
`;
