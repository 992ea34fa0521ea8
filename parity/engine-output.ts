/**
 * What a failed engine run printed, shortened for a one-line message: the
 * engine's own error line (Duktape prints "SyntaxError: … (line 2)" and then
 * its stack and "error in executing file", so the last lines alone lose it)
 * and the last lines.
 */

/** An engine's error line: "SyntaxError: …", "Uncaught SyntaxError: …", "Unhandled exception: SyntaxError". */
const ERROR_LINE = /^(Uncaught |Unhandled exception: )?[A-Z]\w*Error\b/;

/** The engine's error line (up to 200 characters), then the last three lines of `output`, joined by " | " (at most 300 characters). */
export function failureDetail(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errorLine = lines.find((l) => ERROR_LINE.test(l));
  const tail = lines.slice(-3).join(' | ').slice(-300);
  if (errorLine === undefined || tail.includes(errorLine)) return tail;
  return `${errorLine.slice(0, 200)} | … | ${tail}`;
}
