# A just-built runtime: imports what Salt needs of it (CHECK_RUNTIME in ../scripts.ts).
import ctypes, hashlib, json, lzma, bz2, ssl, sys, uuid, decimal, zlib, pyexpat, select, socket, _ctypes, crypt, tarfile, zipfile
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix, "openssl": ssl.OPENSSL_VERSION}))
