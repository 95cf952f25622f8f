/**
 * Everything the extension needs only once work starts (the engine with dockerode, the SLS parser
 * behind result locations), loaded on first use. The build bundles it as dist/extension-runtime.js,
 * apart from dist/extension.js, so activation neither parses nor runs it.
 */
export * from '../engine';
export { filesOfRun, problemsOf, problemsOfRender, runKey } from './results/problems';
export { inlineResultsOf } from './results/inlineModel';
export { buildResultsModel, compareModels } from './results/model';
export { stateLenses } from './edit/stateLenses';
export { StateTree } from '../sls/tree';
export { locateSaltRun, withoutKnown } from '../sls/saltFindings';
export * from '../testing';
export { cellErrorMessages, phaseMessages } from './stateTests/report';
