/**
 * Progress of one long task on stderr, throttled: nothing for the first
 * second (or `firstAfterMs`: short tasks stay silent), then one report a second on a terminal
 * (rewriting its line) or one line every ten seconds in a log.
 */
export interface ProgressLine {
  /** Offers the current state; `text` is called only when a report is due. */
  update(text: () => string): void;
  /** Ends the line (a terminal's line is closed with a newline if one was drawn). */
  done(): void;
}

export const SILENT_PROGRESS: ProgressLine = { update() {}, done() {} };

export function progressLine(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  o: { firstAfterMs?: number; now?: () => number } = {},
): ProgressLine {
  const now = o.now ?? (() => performance.now());
  const tty = Boolean(stream.isTTY);
  const every = tty ? 1000 : 10_000;
  let next = now() + (o.firstAfterMs ?? 1000);
  let drawn = false;
  return {
    update(text) {
      const t = now();
      if (t < next) return;
      next = t + every;
      const line = `${label}: ${text()}`;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        drawn = true;
      } else stream.write(`${line}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
