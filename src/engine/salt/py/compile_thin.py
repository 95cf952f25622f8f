# Host: the thin precompiled for one Python (COMPILE_THIN in ../scripts.ts, after tar_helpers.py).
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
