// The Python programs the engine runs live in .py files beside the TypeScript that runs them;
// scripts/build.mjs bundles each as its text (esbuild's text loader), which is what importing one gives.
declare module '*.py' {
  const source: string;
  export default source;
}
