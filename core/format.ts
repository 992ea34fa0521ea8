/** Numbers and strings as the tool prints them (terminal lines, progress, messages, generated text). */

/** Human-readable number for summaries. */
/** Control characters (a NUL ends Espruino's reading of a line) and every line terminator; not tab. */
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/g;

/** `s` on one visible line: each control character and line terminator as its \uXXXX escape. */
export const escapeControls = (s: string): string => s.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v);
}
