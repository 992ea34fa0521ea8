/**
 * User-given strings (feature, target and class names, file names) in
 * generated text are data, never code. JavaScript ends a line, and so a `//`
 * comment, at \n, \r, U+2028 and U+2029; ES5 allows none of them raw in a
 * string literal, and JSON.stringify leaves U+2028 and U+2029 raw. A block
 * comment ends at `*\/`. Every user string reaches generated text through
 * one of these functions (or CodeBuilder.comment, which uses commentText),
 * and CodeBuilder.line refuses a raw line terminator, so a missed one is an
 * internal error and never a changed program.
 */

/** Line terminators other than \n, shown as their escapes in comments. */
const HIDDEN_LINE_ENDS = /[\r\u2028\u2029]/g;
const SEPARATORS = /[\u2028\u2029]/g;
const escapeOf = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A JSON value as ES5 source (a literal): JSON.stringify, with U+2028 and U+2029 escaped too. */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(SEPARATORS, escapeOf);
}

/** A string as an ES5 string literal, in double quotes. */
export const jsString = (s: string): string => jsonText(s);

/** A string inside a comment of one line (`//` or `/* *\/`): every line terminator escaped and `*\/` broken. */
export function commentText(s: string): string {
  return s
    .replace(/\n/g, '\\n')
    .replace(HIDDEN_LINE_ENDS, (c) => (c === '\r' ? '\\r' : escapeOf(c)))
    .replace(/\*\//g, '*\\/');
}

/** True when `s` holds a character that ends a line of JavaScript. */
export const hasLineTerminator = (s: string): boolean => /[\n\r\u2028\u2029]/.test(s);
