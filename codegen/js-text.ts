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
import { escapeControls } from '../core/format.ts';

/** A surrogate without its pair: not a character (Espruino refuses its escape in a literal). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` with every lone surrogate replaced by U+FFFD, as a UTF-8 decoder does. */
export const wellFormed = (s: string): string => s.replace(LONE_SURROGATE, '\ufffd');

/**
 * A JSON value as ES5 source (a literal): JSON.stringify, with U+2028 and U+2029 escaped
 * too, and lone surrogates (not characters) as U+FFFD.
 */
export function jsonText(value: unknown, space?: number): string {
  // JSON escapes every other line end and control character itself (its own indentation's line ends stay)
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v), space).replace(
    /[\u2028\u2029]/g,
    escapeControls,
  );
}

/** A string as an ES5 string literal, in double quotes. */
export const jsString = (s: string): string => jsonText(s);

/** A string inside a comment of one line (`//` or `/* *\/`): every control character and line terminator escaped, `*\/` broken. */
export function commentText(s: string): string {
  return escapeControls(s).replace(/\*\//g, '*\\/');
}

/** True when `s` holds a character that ends a line of JavaScript. */
export const hasLineTerminator = (s: string): boolean => /[\n\r\u2028\u2029]/.test(s);
