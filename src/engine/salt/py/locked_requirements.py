# Salt venv: the sdist's lock file for this Python (LOCKED_REQUIREMENTS in ../scripts.ts).
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
