"""A custom execution module shipped with the state tree (salt://_modules)."""


def greet(name="world"):
    """Return a greeting: ``salt-call demo.greet name=me``."""
    return "Hello, {}!".format(name)
