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

/*
 * The long phase now running (one at a time: float metrics, calibration, a
 * streamed replay, ...), for loops deep in the pipeline that have no log of
 * their own. Silent until a command turns reporting on (not with --quiet).
 */
let phaseStream: NodeJS.WriteStream | undefined;
let phase: ProgressLine = SILENT_PROGRESS;

/** Commands that print progress turn phase reports on (`--quiet` leaves them off); to stderr unless told. */
export function reportPhases(on: boolean, stream: NodeJS.WriteStream = process.stderr): void {
  phaseStream = on ? stream : undefined;
}

/** A new phase: its label starts each report ("quantize: replaying the validation series"). */
export function startPhase(label: string): void {
  phase.done();
  phase = phaseStream ? progressLine(label, phaseStream) : SILENT_PROGRESS;
}

/** How far the phase is: `done` of `of` units ("windows", "readings"). */
export function phaseTick(done: number, of: number, unit: string): void {
  phase.update(() => `${Math.floor((100 * done) / of)}% of ${of.toLocaleString('en')} ${unit}`);
}

export function endPhase(): void {
  phase.done();
  phase = SILENT_PROGRESS;
}
