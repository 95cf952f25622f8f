# Python (any 3.x) defining the tar helpers both thin scripts start with (GENERATE_THIN and COMPILE_THIN
# in ../scripts.ts): extract(tar, dest), and write_tar(tree, path, skip, hollow) -> (files, bytes), which
# writes tree as an uncompressed tar of root-owned entries in sorted order, leaving out what skip(path)
# names and emptying the files hollow(path) names.
import io, os, tarfile
def extract(tar, dest):
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(dest)
def write_tar(tree, path, skip=lambda entry: False, hollow=lambda entry: False):
    files = size = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for root, dirs, names in os.walk(tree):
            dirs[:] = sorted(d for d in dirs if not skip(os.path.join(root, d)))
            for entry in [root] + [os.path.join(root, n) for n in sorted(names) if not skip(os.path.join(root, n))]:
                info = t.gettarinfo(entry, arcname=os.path.relpath(entry, tree))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                if not info.isfile():
                    t.addfile(info)
                    continue
                if hollow(entry):
                    info.size = 0
                    t.addfile(info, io.BytesIO(b""))
                else:
                    with open(entry, "rb") as f:
                        t.addfile(info, f)
                files += 1
                size += info.size
    return files, size
