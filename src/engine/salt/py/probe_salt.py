# Host: Salt's version and its Python's, as JSON (PROBE_SALT in ../scripts.ts).
import json, sys
import salt.version
print(json.dumps({"salt": salt.version.__version__, "python": "%d.%d" % sys.version_info[:2]}))
