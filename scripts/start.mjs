// The README's main command (`npm start`): sets up the environment (engine, test image, Salt), builds,
// makes sure a running container `salt-demo` exists to apply states to, and opens VS Code with the
// extension under development on the example workspace: a desktop `code` when one is on PATH,
// otherwise code-server on 127.0.0.1 (port from PORT, default 8080), printing the URL to open. With
// code-server it runs until Ctrl-C, then stops code-server; the container stays for next time.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
process.chdir(root);
const demoContainer = 'salt-demo';

/** Runs a command with the terminal attached; stops here when it fails. */
function step(title, command, args) {
  console.log(`\n=== ${title} ===`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${title} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
    process.exit(1);
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this one
    }
  }
  return undefined;
}

// Built first: the set-up installs Salt with the product's own installer.
step('build', 'node', ['scripts/build.mjs']);
step('set-up: engine, test image, Salt', 'bash', ['scripts/setup-env.sh', '--main']);

// Built by the step above; the one place that knows code-server, the browser URL and test containers.
const load = createRequire(import.meta.url);
const support = load(join(root, 'out', 'test', 'support', 'codeServer.js'));
const { PY3_IMAGE } = load(join(root, 'out', 'test', 'support', 'containers.js'));

console.log(`\n=== container ${demoContainer} ===`);
const { created } = await support.ensureKeepAliveContainer(demoContainer, { replace: false });
console.log(`${demoContainer} (${PY3_IMAGE}) is running${created ? ', just created' : ''}; it stays after this command ends (docker rm -f ${demoContainer} removes it)`);

const code = onPath('code');
if (code) {
  console.log(`\n=== VS Code (${code}) ===`);
  const child = spawn(code, ['--new-window', `--extensionDevelopmentPath=${root}`, support.examplesFolder], { stdio: 'inherit' });
  child.on('exit', (status) => process.exit(status ?? 0));
} else {
  step('set-up: code-server and Chromium', 'bash', ['scripts/setup-vscode.sh']);
  console.log('\n=== code-server ===');
  const port = Number(process.env.PORT || 8080);
  // The example workspace is the repository's own: trusted, so apply and build are enabled. The
  // extension under development reaches the workbench through the URL's payload, which code-server
  // honours with its test driver option.
  const server = await support.startCodeServer({ port, workspaceTrust: false, testDriver: true });
  const url = support.workbenchUrl(server, support.examplesFolder, [
    ['extensionDevelopmentPath', support.remoteUri(server, root)],
    ['skipWelcome', 'true'],
  ]);
  console.log(`\nSalt Containers in VS Code (code-server ${server.url}), open:\n\n  ${url}\n\nCtrl-C stops code-server.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping code-server…');
    await server.stop();
    console.log(`stopped; container ${demoContainer} is still running`);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.process.on('exit', (status, signal) => {
    if (stopping) return;
    console.error(`code-server ended by itself (${status ?? signal}); its last lines:\n${server.output().split('\n').slice(-20).join('\n')}`);
    process.exit(1);
  });
}
