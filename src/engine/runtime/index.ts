/**
 * The Python that runs Salt in a container, chosen per run: the container's own when the Salt source
 * supports it, else a relocatable CPython the engine builds from Debian's packages and uploads for the
 * run (see build.ts, ship.ts). A session engine reuses the same choice and placement.
 */
export { buildRuntime, cachedRuntime, hostCommand, type BundledRuntime, type RuntimeFile } from './build';
export { chooseRuntime, minimumPython, pythonRule, PYTHON_RUNTIME_SETTINGS, runtimePlaces, versionAtLeast, whyNotPython, type PythonRule, type PythonRuntimeSetting, type ThinFacts, type ThinPackage, type PythonSeen, type RuntimeChoice, type RuntimePlaces } from './choose';
export { debianArch, hostArch, RuntimeBuildError, SUITE } from './debian';
export { readElf, type ElfInfo } from './elf';
export { interpreterFor, placeRuntime, runtimeTar, shipRuntime, type ShippedRuntime } from './ship';
