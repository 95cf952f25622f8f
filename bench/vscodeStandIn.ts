/**
 * A stand-in for the `vscode` module, for the activation benchmark only (never for tests): just enough
 * of the API for activate() and the tree views to run under plain Node, with calls that cost next to
 * nothing, so what is timed is the extension's own work. Members the benchmark does not know come from
 * a catch-all that returns a disposable no-op.
 */
import Module from 'node:module';

type Listener<T> = (value: T) => unknown;

class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

class MarkdownString {
  value = '';
  appendMarkdown(text: string): this {
    this.value += text;
    return this;
  }
  appendText(text: string): this {
    this.value += text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
    return this;
  }
}

class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  contextValue?: string;
  iconPath?: unknown;
  command?: unknown;
  constructor(
    public label: string,
    public collapsibleState = 0,
  ) {}
}

class Uri {
  constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.fsPath, ...parts].join('/'));
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

/** A value class of the API (Range, Position...): keeps what it was made with. */
class Plain {
  readonly args: unknown[];
  constructor(...args: unknown[]) {
    this.args = args;
  }
}

const disposable = { dispose: () => undefined };
const noop = (): unknown => disposable;
/** Any unknown member: a function returning a disposable, whose own members are the same. */
const anything: unknown = new Proxy(noop, { get: (_t, key) => (key === 'then' ? undefined : anything), apply: () => disposable });
const withFallback = <T extends object>(known: T): T => new Proxy(known, { get: (target, key) => (key in target ? target[key as keyof T] : anything) });

/** What activate() registered, for the benchmark to use (the tree providers). */
export const registered = { treeViews: new Map<string, { treeDataProvider: unknown }>(), commands: new Map<string, (...args: unknown[]) => unknown>() };

const configuration = withFallback({
  get: <T>(_key: string, fallback?: T) => fallback,
  update: async () => undefined,
});

export const vscodeStandIn = withFallback({
  EventEmitter,
  MarkdownString,
  TreeItem,
  Uri,
  ThemeIcon: class {
    constructor(readonly id: string) {}
  },
  ThemeColor: class {
    constructor(readonly id: string) {}
  },
  Disposable: { from: (...all: { dispose(): unknown }[]) => ({ dispose: () => all.forEach((d) => d.dispose()) }) },
  RelativePattern: class {
    constructor(
      readonly base: unknown,
      readonly pattern: string,
    ) {}
  },
  // Classes and enums are copied by the bundle's module interop member by member (the catch-all does
  // not reach them): each one the extension touches while activating is here.
  Range: Plain,
  Position: Plain,
  Location: Plain,
  CodeLens: Plain,
  Diagnostic: Plain,
  TestMessage: Plain,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  DecorationRangeBehavior: { OpenOpen: 0, ClosedClosed: 1, OpenClosed: 2, ClosedOpen: 3 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  TestRunProfileKind: { Run: 1, Debug: 2, Coverage: 3 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  tasks: withFallback({}),
  tests: withFallback({ createTestController: () => withFallback({ items: withFallback({ replace: noop, add: noop }), dispose: noop }) }),
  env: withFallback({}),
  StatusBarAlignment: { Left: 1, Right: 2 },
  ViewColumn: { One: 1, Beside: -2 },
  window: withFallback({
    createTreeView: (id: string, options: { treeDataProvider: unknown }) => {
      registered.treeViews.set(id, options);
      return withFallback({ visible: false, onDidChangeVisibility: () => disposable, dispose: noop });
    },
    createStatusBarItem: () => withFallback({ show: noop, hide: noop, dispose: noop }),
  }),
  workspace: withFallback({
    getConfiguration: () => configuration,
    createFileSystemWatcher: () => withFallback({ dispose: noop }),
    textDocuments: [],
    workspaceFolders: undefined,
    isTrusted: true,
  }),
  languages: withFallback({ createDiagnosticCollection: () => withFallback({ set: noop, delete: noop, dispose: noop }) }),
  commands: withFallback({
    registerCommand: (name: string, handler: (...args: unknown[]) => unknown) => {
      registered.commands.set(name, handler);
      return disposable;
    },
    executeCommand: async () => undefined,
  }),
});

/** Makes `require('vscode')` give the stand-in, in this process. */
export function installVscodeStandIn(): void {
  const moduleApi = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string; _cache: Record<string, unknown> };
  const resolve = moduleApi._resolveFilename;
  moduleApi._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
  };
  moduleApi._cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscodeStandIn };
}

/** A minimal ExtensionContext for activate(). */
export function extensionContext(extensionPath: string): unknown {
  const memento = withFallback({ get: <T>(_key: string, fallback?: T) => fallback, update: async () => undefined, keys: () => [] });
  return withFallback({ subscriptions: [], extensionUri: Uri.file(extensionPath), extensionPath, workspaceState: memento, globalState: memento });
}
