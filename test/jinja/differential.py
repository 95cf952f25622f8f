"""Jinja's own verdict on templates, for the differential test of src/sls/jinjaSyntax.ts.

Reads a JSON object {name: template text} on stdin and prints {name: null | {"line": N, "message": M}}:
what env.parse() raises for each, with the environment built as Salt's salt/utils/templates.py builds it
(SandboxedEnvironment; extensions with_ where Jinja still has it, do, loopcontrols, Salt's
SerializerExtension). Run it with a Python that has Salt (the Salt venv the set-up installs).
"""

import json
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox
import salt.utils.jinja


def salt_environment():
    extensions = []
    if hasattr(jinja2.ext, "with_"):
        extensions.append("jinja2.ext.with_")
    if hasattr(jinja2.ext, "do"):
        extensions.append("jinja2.ext.do")
    if hasattr(jinja2.ext, "loopcontrols"):
        extensions.append("jinja2.ext.loopcontrols")
    extensions.append(salt.utils.jinja.SerializerExtension)
    return jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, extensions=extensions)


def main():
    env = salt_environment()
    cases = json.load(sys.stdin)
    out = {}
    for name, text in cases.items():
        try:
            env.parse(text)
            out[name] = None
        except jinja2.TemplateSyntaxError as e:
            out[name] = {"line": e.lineno, "message": e.message}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
