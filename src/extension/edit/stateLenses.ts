/**
 * Which states of an SLS file get Apply and Test lenses, and on which line: those whose ID the source
 * decides once Jinja is read as Salt renders it, with the file's own render context (its `tpldir`,
 * templates it imports from the tree), so `{{ tplroot }}-service` in `nginx/service.sls` gets one as
 * `nginx-service`. An ID only a render decides (`web_site_{{ site }}`) gets none. Pure (no vscode
 * import): unit-tested; codelens.ts makes the lenses.
 */
import { parseSls } from '../../sls/parse';
import { renderContext } from '../../sls/tree';

export interface StateLens {
  id: string;
  /** 0-based. */
  line: number;
}

/** `read`: a file's text (an editor's unsaved text first), undefined when there is none. */
export function stateLenses(stateRoot: string, file: string, text: string, read: (file: string) => string | undefined): StateLens[] {
  const parsed = parseSls(text, { context: renderContext(stateRoot, file, read) });
  return parsed.states.filter((state) => !state.templated).map((state) => ({ id: state.id, line: parsed.lines.position(state.span.start).line }));
}
