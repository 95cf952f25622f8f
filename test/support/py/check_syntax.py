# The syntax check test/integration/python.test.ts runs in each test image: stdin = {name: source}
# (JSON), argv = the older Pythons whose grammar to check as well ("3.6"; ast's feature_version, which
# this Python must know). Compiles every source with this Python (compile(), as py_compile does without
# writing a .pyc) and parses it with each older grammar; prints {"python", "failures": ["name:line: why"]}.
import ast, json, sys
sources = json.load(sys.stdin)
grammars = [tuple(int(part) for part in version.split(".")) for version in sys.argv[1:]]
failures = []
for name, source in sorted(sources.items()):
    try:
        compile(source, name, "exec", dont_inherit=True)
    except SyntaxError as error:
        failures.append("%s:%s: %s (Python %d.%d)" % (name, error.lineno, error.msg, sys.version_info[0], sys.version_info[1]))
        continue
    for grammar in grammars:
        try:
            ast.parse(source, name, feature_version=grammar)
        except SyntaxError as error:
            failures.append("%s:%s: %s (grammar of Python %d.%d)" % (name, error.lineno, error.msg, grammar[0], grammar[1]))
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "failures": failures}))
