/**
 * An error caused by the user's input (a file, a flag, a value). The CLI prints
 * its message as one line, without a stack trace, and exits non-zero.
 * Messages say what is wrong and where: "data.csv:12: column 'temp' is empty".
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
