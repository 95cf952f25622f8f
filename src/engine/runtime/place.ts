/**
 * Where the runtime build's Linux programs run (apt-get, dpkg-deb, patchelf, Debian's python): this
 * machine when it is a Debian-like Linux, else a helper container from a Debian image on the engine.
 * The build (build.ts) is written once against BuildPlace (declared in debian.ts): the folders it names
 * are the place's, and `fetch`/`send` move a folder between the place and this machine, where the build
 * assembles the tree (on this machine they are the same folder, and moving is nothing).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { HostProgramCancelled, runHostProgram } from '../host';
import { HelperError, type HelperContainer } from '../helper/container';
import { hostArch, RuntimeBuildError, type BuildPlace } from './debian';

/** This machine, working in `work`: the place's folders are this machine's, so nothing moves. */
export function hostPlace(work: string, signal?: AbortSignal): BuildPlace {
  return {
    arch: hostArch(),
    work,
    join,
    async run(program, args, options = {}) {
      try {
        return await runHostProgram(program, args, { signal, cwd: options.cwd });
      } catch (error) {
        if (error instanceof HostProgramCancelled) throw new RuntimeBuildError('building the Python runtime was cancelled', 'Nothing was kept.', true);
        if (options.missing) throw new RuntimeBuildError(`${options.missing.message}: ${(error as Error).message}`, options.missing.hint);
        throw error;
      }
    },
    async mkdir(dir) {
      mkdirSync(dir, { recursive: true });
    },
    async writeFile(path, content) {
      writeFileSync(path, content);
    },
    async list(dir) {
      return readdirSync(dir);
    },
    async fetch(from, to) {
      if (from !== to) throw new Error(`a host build has one folder, not ${from} and ${to}`);
    },
    async send(from, to) {
      if (from !== to) throw new Error(`a host build has one folder, not ${from} and ${to}`);
    },
  };
}

/** A helper container of architecture `arch`, working in /salt-containers-build. */
export function helperPlace(helper: HelperContainer, arch: string): BuildPlace {
  const cancelled = (error: unknown) => {
    if (error instanceof HelperError && error.cancelled) throw new RuntimeBuildError('building the Python runtime was cancelled', 'Nothing was kept.', true);
    throw error;
  };
  return {
    arch,
    work: '/salt-containers-build',
    join: posix.join,
    async run(program, args, options = {}) {
      return helper.exec([program, ...args], undefined, options.cwd).catch(cancelled);
    },
    async mkdir(dir) {
      await helper.run(['mkdir', '-p', dir], `mkdir ${dir}`, 'Name a Debian image with coreutils.').catch(cancelled);
    },
    async writeFile(path, content) {
      await helper.put('/', [{ path, content: Buffer.from(content) }]).catch(cancelled);
    },
    async list(dir) {
      return (await helper.run(['ls', '-1', dir], `listing ${dir}`, 'Name a Debian image with coreutils.').catch(cancelled)).split('\n').filter(Boolean);
    },
    async fetch(from, to) {
      await helper.copyOut(from, to).catch(cancelled);
    },
    async send(from, to) {
      await this.mkdir(to);
      await helper.putFolder(from, to);
    },
  };
}
