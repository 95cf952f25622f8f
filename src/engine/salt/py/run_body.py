# Container: the one-shot run's body, salt-call once (RUN in ../scripts.ts, inside entry_point.py).
# Salt reads nothing from the engine: give it an empty stdin, as a minion has.
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
sys.path[0:0] = [os.path.join(here, "pyall"), os.path.join(here, "py3")]
explain_missing_functions()
from salt.scripts import salt_call
sys.argv = ["salt-call", "-c", os.path.join(here, "conf")] + sys.argv[4:]
try:
    salt_call()
finally:
    sys.stderr.flush()
    report_log(2, os.path.join(here, "log"))
code = 0
