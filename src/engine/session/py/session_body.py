# Container: the warm session's body, serving runs (SESSION in ../scripts.ts, inside salt/py/entry_point.py).
import json, threading, traceback
control = os.fdopen(os.dup(0), "rb")
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
def reply(info, payload=b""):
    data = ("@SESSION_REPLY@" + json.dumps(info) + "\n").encode() + payload
    while data:
        data = data[os.write(1, data):]
sys.path[0:0] = [os.path.join(here, "pyall"), os.path.join(here, "py3")]
import salt.cli.call, salt.cli.caller, salt.loader.lazy, salt.output, salt.state, salt.utils.verify, salt.version
explain_missing_functions()
# Each run makes a score of loaders, and each maps its module folders anew: the same thin and
# extmods every time, so map each once per Caller (extmods change only with a new Caller).
mappings = {}
refresh_mapping = getattr(salt.loader.lazy.LazyLoader, "_refresh_file_mapping", None)
def mapped_once(self):
    try:
        key = (tuple(self.module_dirs), tuple(sorted(self.disabled)), tuple(self.static_modules), tuple(self.opts.get("optimization_order") or ()), tuple(sorted(self.suffix_map)))
    except Exception:
        return refresh_mapping(self)
    hit = mappings.get(key)
    if hit is None:
        refresh_mapping(self)
        mappings[key] = (dict(self.file_mapping), dict(self.suffix_map), list(self.suffix_order))
    else:
        self.file_mapping, self.suffix_map, self.suffix_order = dict(hit[0]), dict(hit[1]), list(hit[2])
if refresh_mapping is not None:
    salt.loader.lazy.LazyLoader._refresh_file_mapping = mapped_once
salt_argv = ["salt-call", "-c", os.path.join(here, "conf")] + sys.argv[4:]
# salt-call's own option parsing and set-up, once (its logging set-up cannot run twice).
sys.argv = salt_argv + ["--", "test.true"]
call = salt.cli.call.SaltCall()
call.parse_args()
call.config["file_client"] = "local"
# Files change between runs: the roots backend must not serve a file list cached by the last one.
call.config["fileserver_list_cache_time"] = 0
salt.utils.verify.verify_env([call.config["pki_dir"], call.config["cachedir"], call.config["extension_modules"]], call.config["user"], permissive=call.config["permissive_pki_access"], pki_dir=call.config["pki_dir"])
import copy
base_opts = copy.deepcopy(call.config)
log_path = os.path.join(here, "log")
log_size = lambda: os.path.getsize(log_path) if os.path.exists(log_path) else 0
# What Salt logged while the Caller was made (pillar compiles then): part of every run's log, as a
# cold run's would have it.
made_log = [(0, 0)]
def make_caller():
    mappings.clear()
    start = log_size()
    caller = salt.cli.caller.Caller.factory(copy.deepcopy(base_opts))
    made_log[0] = (start, log_size())
    for fun in ("state.sls", "state.sls_id", "state.highstate", "slsutil.renderer"):
        caller.minion.functions[fun]
    return caller
try:
    caller = make_caller()
except BaseException:
    reply({"op": "failed", "error": traceback.format_exc()})
    raise
session = {"idle": 3600.0, "last": time.time(), "busy": False}
def watchdog():
    while True:
        time.sleep(5)
        if not session["busy"] and time.time() - session["last"] > session["idle"]:
            shutil.rmtree(here, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            if runtime:
                shutil.rmtree(runtime, ignore_errors=True)  # the bundled Python it runs from: last
            os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
def run_child(args):
    out_path, err_path = os.path.join(here, "run.out"), os.path.join(here, "run.err")
    # The child logs through the Caller's handler (the session's one log file): this run's part is what follows.
    log_start = log_size()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
            control.close()
            caller.opts["fun"], caller.opts["arg"] = args[0], args[1:]
            try:
                caller.run()
                status = 0
            except SystemExit as stop:
                if stop.code is None or isinstance(stop.code, int):
                    status = stop.code or 0
                else:
                    sys.stderr.write("%s\n" % stop.code)
            except BaseException:
                traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)
    reply({"op": "started", "pid": pid})
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    outputs = []
    for path in (out_path, err_path):
        try:
            with open(path, "rb") as f:
                outputs.append(f.read())
            os.remove(path)
        except OSError:
            outputs.append(b"")
    outputs[1] += salt_log(log_path, [made_log[0], (log_start, None)])
    reply({"op": "done", "code": code, "stdout": len(outputs[0]), "stderr": len(outputs[1])}, outputs[0] + outputs[1])
reply({"op": "ready", "salt": salt.version.__version__})
unpack = make_unpacker(control, here)
while True:
    line = control.readline()
    if not line:
        break
    request = json.loads(line)
    session["busy"], session["idle"] = True, float(request.get("idle", session["idle"]))
    op = request.get("op")
    if op == "exit":
        break
    if op == "sync":
        for path in request.get("delete", []):
            if path.startswith("/") or ".." in path.split("/"):
                continue
            try:
                os.remove(os.path.join(here, path))
            except OSError:
                pass
        unpack(int(request["size"]))
        if request.get("reload"):
            try:
                caller = make_caller()
            except BaseException:
                reply({"op": "failed", "error": traceback.format_exc()})
                raise
        reply({"op": "synced"})
    elif op == "run":
        run_child(request["args"])
    session["busy"], session["last"] = False, time.time()
code = 0
