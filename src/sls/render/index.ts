/**
 * Jinja rendered as far as the source alone decides it (renderer.ts says how), with a map back to the source
 * (sourceMap.ts). What the rest of sls/ and the server use; tree.ts and expressions.ts are the renderer's parts.
 */
export { renderJinja, type JinjaChain, type Piece, type RenderContext, type RenderedJinja } from './renderer';
export { evaluate } from './expressions';
export { lastAtOrBefore, SourceMap } from './sourceMap';
