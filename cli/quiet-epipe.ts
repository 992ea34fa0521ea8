/**
 * A reader that closes early (`lstm-mcu ... | head`) ends the command's
 * output, not in a stack trace: EPIPE on stdout or stderr exits with the exit
 * code set so far.
 */
export function endQuietlyOnEpipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}
