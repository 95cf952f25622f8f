# Container: the run's entry point around a body (entryPoint in ../scripts.ts fills in the body and the marks).
def hello(info):
    import json
    sys.stdout.write("@HELLO@" + json.dumps(info) + "\n")
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
    return ("@SALT_LOG@" + json.dumps(data.decode("utf-8", "replace")) + "\n").encode() if data else b""
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
    sys.stderr.write("@SETUP_ERROR@" + message + "\n")
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
            text = f.read().replace("@RUN_DIR_MARK@", here).replace("@CACHE_DIR_MARK@", cache)
        with open(conf, "w") as f:
            f.write(text)
    except Exception as error:
        setup_error("could not unpack Salt into %s: %s" % (here, getattr(error, "strerror", None) or error))
    # @BODY@
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
