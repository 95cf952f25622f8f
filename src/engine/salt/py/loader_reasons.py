# Container: explain_missing_functions, put before the entry point (entryPoint in ../scripts.ts).
def explain_missing_functions():
    """A state that calls an execution function whose module did not load (ssh_auth.present where the
    image has no ssh: the ssh module's __virtual__ refused) fails with Salt's bare
    "KeyError: 'ssh.set_auth_key'". Salt's loader knows why, and salt-call says it for a function
    called by name; the KeyError now says it too. Still a KeyError (Salt's code that catches one is
    unchanged); a lookup that succeeds costs one more call."""
    # In salt-call's own order: salt.loader imported first is a circular import on 3006.
    import salt.cli.call, salt.cli.caller, salt.loader.lazy
    loader = salt.loader.lazy.LazyLoader
    getitem, missing = loader.__getitem__, getattr(loader, "missing_fun_string", None)
    if missing is None:
        return  # a Salt without it: its own KeyError stands

    class NotLoaded(KeyError):
        def __str__(self):
            return "%r: %s" % self.args

    # Printed in the state's traceback as Salt's own KeyError would be.
    NotLoaded.__name__ = NotLoaded.__qualname__ = "KeyError"

    def explained(self, item):
        try:
            return getitem(self, item)
        except KeyError as error:
            if type(error) is not KeyError or error.args != (item,) or not isinstance(item, str) or "." not in item:
                raise
            try:
                reason = missing(self, item)
            except Exception:
                raise error
            explained_error = NotLoaded(item, reason)
            explained_error.__suppress_context__ = True
            raise explained_error

    loader.__getitem__ = explained
