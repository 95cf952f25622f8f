# This machine: the runtime's standard library as one zip of bytecode (STDLIB_ZIP in ../scripts.ts).
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
