# Host: Salt's thin and its meta (GENERATE_THIN in ../scripts.ts, after tar_helpers.py).
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
                tag = re.match(r"^[^.]+\.(cpython-\d+|abi3|pypy\d*[^.]*)", so)
                package["compiled"].append(tag.group(1) if tag else "untagged")
        package["compiled"] = sorted(set(package["compiled"]))
        for dist in owners.get(name, [])[:1]:
            found = metadata.distribution(dist)
            package.update(dist=found.metadata["Name"], version=found.version, requiresPython=found.metadata.get("Requires-Python"))
        packages.append(package)
# Whether each package imports from the thin without its compiled files (which the thin leaves out).
names = [p["name"] for p in packages if p["compiled"]]
check = "import importlib, json, sys\nsys.path[0:0] = sys.argv[1:3]\nfailed = []\nfor n in sys.argv[3:]:\n    try:\n        importlib.import_module(n)\n    except Exception:\n        failed.append(n)\nprint(json.dumps(failed))"
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
