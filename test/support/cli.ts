/** The built CLI (dist/cli.js) run in a folder, its exit code and output collected: for the state tests' CLI cases. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './containers';

export const CLI = join(REPO_ROOT, 'dist', 'cli.js');

export function runCli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
