/**
 * A tiny line builder for generated code: `line()` appends one line at the
 * current indent, `block()` indents the lines its callback writes. Calls are
 * nested like the code they produce, so the emitter reads like its output.
 */
import { commentText, hasLineTerminator } from './js-text.ts';

export class CodeBuilder {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ''): this {
    // A user string in code goes through jsString / jsonText (codegen/js-text.ts), which escape every line terminator.
    if (hasLineTerminator(text)) throw new Error(`CodeBuilder.line: one line at a time: ${JSON.stringify(text)}`);
    this.lines.push(text === '' ? '' : '  '.repeat(this.depth) + text);
    return this;
  }

  /** Several lines at the current indent, each keeping its own leading spaces (a constant ES5 source). */
  snippet(lines: readonly string[]): this {
    for (const l of lines) this.line(l);
    return this;
  }

  /** `open` line, the body one level deeper, then `close` line. */
  block(open: string, body: () => void, close = '}'): this {
    this.line(open);
    this.depth++;
    body();
    this.depth--;
    return this.line(close);
  }

  /** A line to be written later (`fill`), at the current indent: its index. */
  reserve(): number {
    this.lines.push('  '.repeat(this.depth));
    return this.lines.length - 1;
  }

  /** Write the reserved line `index`. */
  fill(index: number, text: string): void {
    this.lines[index] += text;
  }

  /** The text written after line `index`. */
  textAfter(index: number): string {
    return this.lines.slice(index + 1).join('\n');
  }

  /** `// text`, a line of comment per \n in text; any other line terminator (a user's name) is shown escaped. */
  comment(text: string): this {
    for (const part of text.split('\n')) this.line(`// ${commentText(part)}`.trimEnd());
    return this;
  }

  /** The lines a callback writes from depth 0 (to fill a placeholder of a constant ES5 source). */
  static linesOf(write: (b: CodeBuilder) => void): string[] {
    const b = new CodeBuilder();
    write(b);
    return b.lines.slice();
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}
