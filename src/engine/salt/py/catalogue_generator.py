# A Python with Salt: the state catalogue (CATALOGUE_GENERATOR in ../scripts.ts).
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
