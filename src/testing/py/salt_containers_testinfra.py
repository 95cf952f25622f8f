# Shipped by Salt Containers for one run: testinfra tests under the interpreter that runs Salt.
import os
import subprocess
import sys
import zipfile


def run(saltenv="base"):
    roots = __opts__["file_roots"].get(saltenv) or next(iter(__opts__["file_roots"].values()))
    base = os.path.join(roots[0], "testinfra")
    site = os.path.join(base, "site")
    wheels = os.path.join(base, "wheels")
    for name in sorted(os.listdir(wheels)):
        with zipfile.ZipFile(os.path.join(wheels, name)) as wheel:
            wheel.extractall(site)
    junit = os.path.join(base, "junit.xml")
    driver = "import sys; sys.path.insert(0, sys.argv.pop(1)); import pytest; sys.exit(pytest.main(sys.argv[1:]))"
    argv = [sys.executable, "-B", "-c", driver, site, "-p", "no:cacheprovider", "-o", "junit_family=xunit1",
            "--junitxml=" + junit, "--hosts=local://", "-q", "--color=no", "-rN", "tests"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(argv, cwd=base, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = ""
    if os.path.exists(junit):
        with open(junit, encoding="utf-8") as f:
            text = f.read()
    return {"exit": proc.returncode, "output": proc.stdout.decode("utf-8", "replace")[-20000:], "junit": text}
