/**
 * Parsers for every shape salt-call prints with `--out json --retcode-passthrough` (see
 * shared/notes/salt-in-containers.md): state results, render errors, unknown function, bad arguments,
 * module exceptions. stderr carries Python warnings even on success: it is never a failure by itself.
 */
import { SALT_LOG } from '../salt/scripts';
import type { RawOutput, RunError, StateResult } from './model';

const TAG_SEPARATOR = '_|-';

interface SaltStateReturn {
  __id__?: string;
  __sls__?: string;
  __run_num__?: number;
  name?: string;
  result?: boolean | null;
  comment?: string | string[];
  changes?: Record<string, unknown>;
  duration?: number | string;
  start_time?: string;
}

function looksLikeStateReturn(value: unknown): value is SaltStateReturn {
  return typeof value === 'object' && value !== null && 'result' in value && ('__run_num__' in value || 'comment' in value);
}

/** `pkg_|-web_|-nginx_|-installed` -> `pkg.installed`. Only the first and last fields are safe to take: ids and names may contain the separator. */
export function functionOfTag(tag: string): string {
  const first = tag.indexOf(TAG_SEPARATOR);
  const last = tag.lastIndexOf(TAG_SEPARATOR);
  if (first < 0) return tag;
  return `${tag.slice(0, first)}.${tag.slice(last + TAG_SEPARATOR.length)}`;
}

/** The id field of a tag, for results without `__id__` (e.g. "no top match"): everything between the first and the second-to-last separator is ambiguous, so only use it then. */
function idOfTag(tag: string): string {
  const parts = tag.split(TAG_SEPARATOR);
  return parts.length >= 4 ? parts.slice(1, parts.length - 2).join(TAG_SEPARATOR) : tag;
}

function toStateResult(tag: string, value: SaltStateReturn, index: number): StateResult {
  const comment = Array.isArray(value.comment) ? value.comment.join('\n') : String(value.comment ?? '');
  return {
    id: value.__id__ ?? idOfTag(tag),
    // A state whose function Salt lacks comes back without __sls__; its comment names the SLS.
    sls: value.__sls__ ?? /^State '[^']+' was not found in SLS '([^']+)'/.exec(comment)?.[1] ?? '',
    function: functionOfTag(tag),
    name: value.name ?? '',
    result: value.result === undefined ? null : value.result,
    comment,
    changes: value.changes && typeof value.changes === 'object' ? value.changes : {},
    durationMs: Number(value.duration ?? 0) || 0,
    runNum: typeof value.__run_num__ === 'number' ? value.__run_num__ : 1_000_000 + index,
    tag,
    startTime: value.start_time,
  };
}

/**
 * A template an SLS imports, as Salt names it when the error is in there: the copy in the run's
 * cachedir (`/tmp/salt-containers.RANDOM/files/base/web/map.jinja(3):`). Group 1 is that path, 2 the
 * path in the state tree, 3 the line.
 */
const CACHED_TEMPLATE = /(\/\S*?salt-containers\.[^\s/]+\/(?:cache\/)?files\/[^\s/]+\/)(\S+?)\((\d+)\):/;

/**
 * What Salt names in the errors of an SLS it rendered but cannot compile (salt/state.py, the
 * requisite graph): the SLS (`in SLS 'web'`, `in SLS [web]`, `in 'base:web'`), and the state by its
 * ID or, for a requisite that matches nothing, by its name. Tried in order; the first match wins.
 */
const COMPILE_SLS = [/ in SLS \[([^\]]+)\]/, / (?:in|within) SLS '([^']+)'/, / in SLS "([^"]+)"/, / in SLS ([^\s'"[]+)/, /^Cannot extend ID '[^']*' in '([^']+)'/, /^SLS (\S+) does not render/];
const COMPILE_ID = [/\b(?:ID|[Ss]tate|Extension name) '([^']+)',? in (?:SLS|')/, /\bstate "([^"]+)" in SLS/, /\b(?:ID|state) ([^\s'"[\]]+) in SLS/, /^Cannot extend ID '([^']+)'/, /conflicting ID is '([^']+)'/];
const COMPILE_NAME = / in state \[([^\]]+)\] in SLS/;
/** "The require statement in state 'x' in SLS 'y' needs to be formed as a list": the argument at fault. */
const COMPILE_ARGUMENT = /^The (\w+) statement in state '/;

const firstMatch = (patterns: RegExp[], text: string) => patterns.map((p) => p.exec(text)?.[1]).find((m) => m !== undefined);
/** `base:web` -> `web`. */
const withoutEnv = (sls: string) => sls.replace(/^[^:]+:/, '');

/**
 * A render error ("Rendering SLS 'base:web' failed: ...; line 3", YAML marks, missing SLS, an error in
 * a template the SLS imports, an SLS Salt cannot compile) with its SLS, file, line and state.
 */
export function parseRenderError(message: string): RunError {
  // PyYAML marks the end of a stream with a NUL, which Salt prints as it is.
  const error: RunError = { kind: 'render', message: message.replace(/\0/g, '').trim() };
  const rendering = /Rendering SLS '(?:([^':]+):)?([^']+)' failed/.exec(message);
  const missing = /No matching sls found for '([^']+)'/.exec(message) ?? /Specified SLS (\S+) in saltenv \S+ is not available/.exec(message);
  if (rendering) error.sls = rendering[2];
  else if (missing) error.sls = missing[1];
  else {
    const sls = firstMatch(COMPILE_SLS, error.message);
    if (sls) {
      error.sls = withoutEnv(sls);
      const id = firstMatch(COMPILE_ID, error.message);
      const name = COMPILE_NAME.exec(error.message)?.[1];
      if (id) error.id = id;
      else if (name) error.name = name;
      const argument = COMPILE_ARGUMENT.exec(error.message)?.[1];
      if (argument) error.argument = argument;
    }
  }
  const template = CACHED_TEMPLATE.exec(error.message);
  if (template) {
    // The line is the template's; the run's directory means nothing to the reader: say salt://.
    error.file = template[2];
    error.line = Number(template[3]);
    error.message = error.message.replace(template[1], 'salt://');
    return error;
  }
  // YAML errors name the context mark first ("in <unicode string>, line 4, column 11"), Jinja errors end
  // with "; line 3". A key given twice is at its second mark: the first is the mapping's start.
  const yamlMark = /found conflicting ID '[^\n]*\n[^\n]*line (\d+), column (\d+)/.exec(message) ?? /line (\d+), column (\d+)/.exec(message);
  const jinjaLine = /; line (\d+)/.exec(message);
  if (yamlMark) {
    error.line = Number(yamlMark[1]);
    error.column = Number(yamlMark[2]);
  } else if (jinjaLine) error.line = Number(jinjaLine[1]);
  if (missing) error.hint = `Check the SLS name: ${missing[1]} is looked up as ${missing[1].replace(/\./g, '/')}.sls or ${missing[1].replace(/\./g, '/')}/init.sls under the state root.`;
  else {
    const hint = absentKeyHint(error.message);
    if (hint) error.hint = hint;
  }
  return error;
}

/**
 * Pillar and grains are the same kind of object in Salt's Jinja, so a key neither has reads as
 * "Jinja variable 'salt.utils.optsdict.DictProxy object' has no attribute 'web'": the line Salt marks
 * says which of them was asked.
 */
function absentKeyHint(message: string): string | undefined {
  const key = /'salt\.utils\.optsdict\.DictProxy object' has no attribute '([^']+)'/.exec(message)?.[1];
  if (!key) return undefined;
  const marked = (message.split('\n').find((line) => line.includes('<======')) ?? '').replace(/\s+/g, '');
  const asked = (name: string) => [`${name}.${key}`, `${name}['${key}']`, `${name}["${key}"]`].some((form) => marked.includes(form));
  if (asked('pillar')) return `The pillar has no '${key}' for this minion: give it in the pillar tree (a module with ${key}: that the pillar's top.sls assigns), or read it with salt['pillar.get']('${key}', default).`;
  if (asked('grains')) return `The container has no grain '${key}' (grains.items lists them): read it with grains.get('${key}', default).`;
  return `Neither the pillar nor the grains have '${key}': give it in the pillar tree, or read it with salt['pillar.get']('${key}', default) or grains.get('${key}', default).`;
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** Errors when stdout is not Salt's JSON: unknown function, bad arguments, exceptions, anything else. */
function errorFromFailedCall(raw: RawOutput): RunError {
  const stderr = raw.stderr;
  const unknown = /'([^']+)' is not available\./.exec(stderr);
  if (unknown) return { kind: 'unknown-function', message: `'${unknown[1]}' is not available: no such Salt function in this container`, hint: 'Check the spelling; custom modules belong in _modules/ of the state tree.' };
  const invalid = /Passed invalid arguments:?\s*([^\n]*)/.exec(stderr);
  if (invalid || (raw.exitCode === 1 && raw.stdout.trim() && !raw.stdout.trim().startsWith('{'))) {
    const usage = raw.stdout.trim().split('\n').map((l) => l.trim()).filter(Boolean);
    return {
      kind: 'bad-arguments',
      message: `invalid arguments${invalid?.[1] ? `: ${invalid[1].trim()}` : ''}`,
      hint: usage.length ? `Usage: ${usage.slice(0, 6).join(' ')}` : undefined,
    };
  }
  if (/Traceback \(most recent call last\)/.test(stderr)) {
    return { kind: 'exception', message: `Salt raised an exception: ${lastLines(stderr, 1)}`, hint: lastLines(stderr, 6) };
  }
  if (raw.exitCode === 126 || raw.exitCode === 127) return { kind: 'no-python', message: lastLines(stderr || raw.stdout, 2) || 'the container could not run Python' };
  const text = lastLines(stderr.split('\n').filter((l) => !/Warning|^\s+import |^\s+warnings\.warn/.test(l)).join('\n'), 4) || lastLines(raw.stdout, 4);
  return { kind: 'salt', message: text || `salt-call exited with ${raw.exitCode} and printed nothing` };
}

function parseJson(stdout: string): { local: unknown } | undefined {
  const text = stdout.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'local' in parsed ? (parsed as { local: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** A run's raw output with the entry point's SALT_LOG line taken out of stderr into `log`. */
export function withSaltLog(raw: RawOutput): RawOutput {
  const lines = raw.stderr.split('\n');
  const at = lines.findIndex((line) => line.startsWith(SALT_LOG));
  if (at < 0) return raw;
  let log: string | undefined;
  try {
    log = JSON.parse(lines[at].slice(SALT_LOG.length)) as string;
  } catch {
    log = undefined; // cut short (a killed run): nothing to read in it
  }
  lines.splice(at, 1);
  return { ...raw, stderr: lines.join('\n'), ...(log ? { log } : {}) };
}

/** The start of a record in Salt's log file: `2026-12-05 13:11:09,992 [salt.pillar      :908 ][CRITICAL][11570] `. */
const LOG_RECORD = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \[[^\]]*\]\[[A-Z]+ *\]\[\d+\] /m;

/**
 * The reasons Salt logged for pillar modules it could not render, by module: salt/pillar's
 * "Rendering SLS 'X' failed, render error:" then the reason (the traceback after it left out).
 */
export function pillarReasons(log: string | undefined): Map<string, string> {
  const reasons = new Map<string, string>();
  if (!log) return reasons;
  for (const record of log.split(LOG_RECORD)) {
    const found = /^Rendering SLS '([^']+)' failed, render error:\n([\s\S]*)$/.exec(record);
    if (!found) continue;
    const reason = found[2].split(/\nTraceback \(most recent call last\):/)[0].trim();
    if (reason && !reasons.has(found[1])) reasons.set(found[1], reason);
  }
  return reasons;
}

/** Salt's heading for the errors of a pillar it could not render (the errors follow it). */
const PILLAR_FAILED = /^Pillar failed to render with the following messages:?$/;
/** A pillar module's error as Salt's output gives it: the reason left to its log. */
const SEE_LOG = /^Rendering SLS '([^']+)' failed\. Please see master log for details\.$/;

/**
 * Render errors as Salt lists them (`{"local": [...]}`). The errors under Salt's pillar heading are the
 * pillar's (`pillar`), each with the reason Salt logged for it in place of "see master log", at the
 * line that reason names; the heading itself is said by each of them.
 */
function renderErrors(messages: string[], log: string | undefined): RunError[] {
  const heading = messages.findIndex((m) => PILLAR_FAILED.test(m.trim()));
  if (heading < 0) return messages.map((m) => parseRenderError(m));
  const reasons = pillarReasons(log);
  return messages.flatMap((message, index): RunError[] => {
    if (index === heading) return [];
    if (index < heading) return [parseRenderError(message)];
    return [pillarError(message, reasons)];
  });
}

/** A pillar module's error, with the reason Salt logged for it in place of "see master log". */
function pillarError(message: string, reasons: Map<string, string>): RunError {
  const module = SEE_LOG.exec(message.trim())?.[1];
  const reason = module !== undefined ? reasons.get(module) : undefined;
  const error = parseRenderError(`Pillar failed to render: ${reason ? `Rendering SLS '${module}' failed: ${reason}` : message.trim()}`);
  return { ...error, pillar: true };
}

/** salt-call's words (stderr) for a function a pillar that did not render stopped (state.show_sls, any function): a `- ` item per error. */
const CALL_PILLAR_FAILED = /Pillar failed to render\. Additional info follows:\s*\n([\s\S]*)$/;

/** The pillar's errors when a function call was stopped by them, each with Salt's logged reason. */
function callPillarErrors(raw: RawOutput): RunError[] | undefined {
  const items = CALL_PILLAR_FAILED.exec(raw.stderr)?.[1];
  if (!items) return undefined;
  const reasons = pillarReasons(raw.log);
  const messages = items.split(/^- /m).map((item) => item.trim()).filter(Boolean);
  return messages.length ? messages.map((message) => pillarError(message, reasons)) : undefined;
}

/** A state run's output: results in run order, or the errors that stopped it. Never drops results because another state failed. */
export function parseStateRun(raw: RawOutput): { states: StateResult[]; errors: RunError[] } {
  const json = parseJson(raw.stdout);
  if (!json) return { states: [], errors: [errorFromFailedCall(raw)] };
  const local = json.local;
  if (Array.isArray(local)) return { states: [], errors: renderErrors(local.map(String), raw.log) };
  if (typeof local === 'string') return { states: [], errors: [parseRenderError(local)] };
  if (typeof local !== 'object' || local === null) return { states: [], errors: [{ kind: 'output', message: `unexpected output from Salt: ${raw.stdout.slice(0, 200)}` }] };
  const states: StateResult[] = [];
  const errors: RunError[] = [];
  Object.entries(local as Record<string, unknown>).forEach(([tag, value], index) => {
    if (looksLikeStateReturn(value)) states.push(toStateResult(tag, value, index));
    else errors.push({ kind: 'output', message: `unexpected result for ${tag}: ${JSON.stringify(value).slice(0, 200)}` });
  });
  states.sort((a, b) => a.runNum - b.runNum);
  return { states, errors };
}

/** An execution function's output: its return value, or why there is none. */
export function parseCall(raw: RawOutput): { value: unknown; errors: RunError[] } {
  const json = parseJson(raw.stdout);
  if (!json) return { value: undefined, errors: callPillarErrors(raw) ?? [errorFromFailedCall(raw)] };
  // A function that fails by returning (retcode set) still printed its return: keep it, and say so.
  const errors: RunError[] = raw.exitCode && raw.exitCode !== 0 ? [{ kind: 'salt', message: `the function reported failure (exit ${raw.exitCode})` }] : [];
  return { value: json.local, errors };
}
