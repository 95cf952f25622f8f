/**
 * Tasks of type `salt-containers` (Terminal > Run Task): `check` over a workspace folder runs the bundled
 * CLI (dist/cli.js, the same checks as the language server, the whole tree at once, and Salt's own render
 * with `--container`/`--image` in `args`), and the `$salt-containers-check` problem matcher puts its
 * `path:line:col: error|warning: message [source]` lines in the Problems view. The folder's trees and
 * engine settings are passed as the extension's runs read them. The CLI runs on the Node that runs VS
 * Code (ELECTRON_RUN_AS_NODE), so nothing else needs installing.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { engineSelection, treeSettings } from './config';

export const taskType = 'salt-containers';

interface SaltContainersTaskDefinition extends vscode.TaskDefinition {
  verb: 'check';
  args?: string[];
}

const isCheck = (definition: vscode.TaskDefinition): definition is SaltContainersTaskDefinition =>
  definition.type === taskType && definition.verb === 'check' && (definition.args === undefined || (Array.isArray(definition.args) && definition.args.every((a) => typeof a === 'string')));

export class SaltContainersTasks implements vscode.TaskProvider {
  constructor(private readonly extensionPath: string) {}

  /** A check task for each folder that holds SLS files (Run Task asks every provider, in any workspace). */
  async provideTasks(): Promise<vscode.Task[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const salty = await Promise.all(folders.map(async (folder) => (await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.sls'), '**/node_modules/**', 1)).length > 0));
    return folders.filter((_, index) => salty[index]).map((folder) => this.checkTask({ type: taskType, verb: 'check' }, folder));
  }

  /** A task from tasks.json: its definition as written, made runnable. */
  resolveTask(task: vscode.Task): vscode.Task | undefined {
    if (!isCheck(task.definition)) return undefined;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    return folder ? this.checkTask(task.definition, folder, task.name) : undefined;
  }

  private checkTask(definition: SaltContainersTaskDefinition, folder: vscode.WorkspaceFolder, name = 'check'): vscode.Task {
    // argv, never a shell line: file names and container names pass as they are.
    const execution = new vscode.ProcessExecution(process.execPath, [path.join(this.extensionPath, 'dist', 'cli.js'), 'check', ...checkArgs(definition.args ?? [], folder.uri)], {
      cwd: folder.uri.fsPath,
      env: { ELECTRON_RUN_AS_NODE: '1', NO_COLOR: '1' },
    });
    const task = new vscode.Task(definition, folder, name, taskType, execution, ['$salt-containers-check']);
    task.group = vscode.TaskGroup.Test;
    task.detail = 'salt-containers check: Jinja, YAML, includes, requisites and state functions over the trees';
    return task;
  }
}

/**
 * The task's arguments after the folder's settings, as the extension's own runs read them: its trees
 * (saltContainers.stateRoot, pillarRoot) and the engine (dockerHost, dockerContext), each unless `args`
 * gives it.
 */
function checkArgs(args: readonly string[], folder: vscode.Uri): string[] {
  const { stateRoot, pillarRoot } = treeSettings(folder);
  const { host, context } = engineSelection();
  const unless = (flags: string[], value: string | undefined, flag = flags[0]) => (value && !args.some((a) => flags.some((f) => a === f || a.startsWith(`${f}=`))) ? [flag, value] : []);
  return [...unless(['--states'], stateRoot), ...unless(['--pillar'], pillarRoot), ...unless(['--host', '-H', '--context'], host), ...unless(['--context', '--host', '-H'], context), ...args];
}
