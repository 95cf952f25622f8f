/**
 * The warm session's program in the container: the run's entry point (salt/scripts.ts entryPoint: the
 * private directories, the bundle and the thin unpacked, both directories removed on the way out) with
 * a body that keeps Salt loaded and serves runs instead of running salt-call once.
 */
import { entryPoint, fillPython } from '../salt/scripts';
import SESSION_BODY_PY from './py/session_body.py';

/** Every line the session writes to the engine: this prefix, then JSON (a payload of bytes may follow). */
export const SESSION_REPLY = 'salt-containers-session ';

/**
 * The body (py/session_body.py), after the entry point unpacked everything. It
 *   - keeps the engine's stdin as its request channel and gives Salt an empty stdin;
 *   - imports Salt and makes a Caller (Salt's own salt-call object: minion config from the bundle,
 *     grains, pillar, loaders), warms the state modules, and says `ready`;
 *   - serves requests, one JSON line each:
 *       {"op": "sync", "size": N, "delete": [...], "reload": bool} + N bytes of tar: the changed files
 *         unpacked into the run directory, deleted ones removed; `reload` makes a new Caller (custom
 *         modules, grains or pillar changed);
 *       {"op": "run", "args": [...]}: forks; the child (a clean copy of the warm parent) runs salt-call's
 *         Caller with those arguments, its stdout and stderr in files; the reply `done` carries its exit
 *         code and both outputs as the payload, stderr ending with what Salt logged during the run
 *         (the entry point's SALT_LOG line, as a cold run's does);
 *       {"op": "exit"}: ends;
 *   - ends at EOF (the engine went away) or after `idle` seconds without a request (each request says
 *     how long), removing its directories (the entry point's finally; the watchdog's own removal
 *     for the idle end), the bundled runtime's last when that is what runs it.
 * The children stay in the session's process group: the engine's cleanup kills them with it.
 */
const SESSION_BODY = fillPython(SESSION_BODY_PY, { SESSION_REPLY });

/** Container: `python -c SESSION NAME shm|tmp NEED SALT-OPTIONS...`, then requests on stdin. */
export const SESSION = entryPoint(SESSION_BODY);
