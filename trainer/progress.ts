/**
 * Epoch progress on stderr: a cli-progress bar with loss / val_loss on a TTY,
 * one plain line per epoch otherwise (CI logs), nothing when silent.
 */
import cliProgress from 'cli-progress';
import type { EpochInfo } from './train.ts';

export interface ProgressOptions {
  epochs: number;
  silent?: boolean;
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Force the bar (true) or plain lines (false); default: bar iff the stream is a TTY. */
  tty?: boolean;
}

export interface EpochProgress {
  onEpoch(e: EpochInfo): void;
  /** Ends the bar (call once training is over, also on error). */
  stop(): void;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

export function createEpochProgress(opts: ProgressOptions): EpochProgress {
  if (opts.silent) return { onEpoch() {}, stop() {} };
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(stream.isTTY);
  if (!tty) {
    const width = String(opts.epochs).length;
    return {
      onEpoch(e) {
        stream.write(`epoch ${String(e.epoch).padStart(width)}/${e.epochs}  loss ${fmt(e.loss)}  val_loss ${fmt(e.valLoss)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'epoch {bar} {value}/{total}  loss {loss}  val_loss {val_loss}  best {best}  eta {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let best = Infinity;
  let running = true;
  bar.start(opts.epochs, 0, { loss: '-', val_loss: '-', best: '-' });
  return {
    onEpoch(e) {
      best = Math.min(best, e.valLoss);
      bar.update(e.epoch, { loss: fmt(e.loss), val_loss: fmt(e.valLoss), best: fmt(best) });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
