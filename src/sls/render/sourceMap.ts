/**
 * Where rendered text comes from: rendered offsets back to source offsets, and what a rendered range shows
 * (its source, a macro's text, its value when every part is known).
 */
import type { Piece, RenderedJinja } from './renderer';

/** The index of the last of ascending `sorted` that is at most `value` (0 when none is). */
export function lastAtOrBefore(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rendered offsets back to source offsets, and what a rendered range shows. */
export class SourceMap {
  /** Offset in the rendered text where each piece starts (pieces are never empty). */
  private readonly offsets: number[] = [];

  constructor(
    readonly rendered: RenderedJinja,
    private readonly source: string,
  ) {
    let at = 0;
    for (const piece of rendered.pieces) {
      this.offsets.push(at);
      at += piece.text.length;
    }
  }

  /** Index of the piece holding rendered offset `at` (clamped to the first and last piece). */
  private pieceAt(at: number): number {
    return lastAtOrBefore(this.offsets, at);
  }

  /** The source offset where a rendered range starting at `at` starts. */
  start(at: number): number {
    const { pieces } = this.rendered;
    if (!pieces.length) return 0;
    const i = this.pieceAt(at);
    const piece = pieces[i];
    const into = at - this.offsets[i];
    if (into >= piece.text.length) return piece.end;
    return piece.exact ? piece.start + into : piece.start;
  }

  /** The source offset where a rendered range ending at `at` (exclusive) ends. */
  end(at: number): number {
    const { pieces } = this.rendered;
    if (!pieces.length) return 0;
    if (at <= 0) return pieces[0].start;
    const i = this.pieceAt(at - 1);
    const piece = pieces[i];
    return piece.exact ? piece.start + Math.min(piece.text.length, at - this.offsets[i]) : piece.end;
  }

  /** The pieces a rendered range touches, with where each starts. */
  private touched(from: number, to: number): { piece: Piece; offset: number }[] {
    const { pieces } = this.rendered;
    const out: { piece: Piece; offset: number }[] = [];
    if (!pieces.length) return out;
    for (let i = this.pieceAt(from); i < pieces.length && this.offsets[i] < Math.max(to, from + 1); i++) out.push({ piece: pieces[i], offset: this.offsets[i] });
    return out;
  }

  /**
   * What a rendered range reads as. `text`: its source where this file wrote it (Jinja included:
   * `web_site_{{ site }}`); where a macro made it, the macro's text with the Jinja of its unknown parts
   * (`postgres_database-{{ name }}`), or the call itself when the macro gives nothing literal. `value`:
   * the rendered text when every part of it is known.
   */
  describe(from: number, to: number): { text: string; value?: string } {
    const touched = this.touched(from, to);
    const value = this.known(from, to) ? this.rendered.text.slice(from, to) : undefined;
    const own = this.source.slice(this.start(from), this.end(to));
    if (!touched.some((t) => t.piece.expanded)) return { text: own, value };
    let text = '';
    for (const { piece, offset } of touched) {
      if (piece.unknown && piece.label !== undefined) text += piece.label;
      else text += piece.text.slice(Math.max(0, from - offset), Math.max(0, to - offset));
    }
    text = text.trim();
    if (text.replace(/\{\{[\s\S]*?\}\}/g, '').trim() === '') text = own;
    return { text, value };
  }

  /** The parts of a rendered range for a pattern of the values it may take: known text, or unknown. */
  parts(from: number, to: number): { text: string; unknown: boolean }[] {
    return this.touched(from, to).map(({ piece, offset }) => ({ text: piece.unknown ? '' : piece.text.slice(Math.max(0, from - offset), Math.max(0, to - offset)), unknown: piece.unknown }));
  }

  /** True when the rendered range is the file's own text, untouched by Jinja. */
  plain(from: number, to: number): boolean {
    const { pieces } = this.rendered;
    for (let i = this.pieceAt(from); i < pieces.length && this.offsets[i] < Math.max(to, from + 1); i++) if (!pieces[i].exact) return false;
    return true;
  }

  /** True when no piece is unknown in the rendered range (its text is what Salt reads). */
  known(from: number, to: number): boolean {
    const { pieces } = this.rendered;
    for (let i = this.pieceAt(from); i < pieces.length && this.offsets[i] < Math.max(to, from + 1); i++) if (pieces[i].unknown) return false;
    return true;
  }
}
