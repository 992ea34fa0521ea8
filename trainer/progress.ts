/**
 * Epoch progress on stderr: a cli-progress bar with loss / val_loss on a TTY
 * (and how far the current epoch is), one plain line per epoch otherwise (CI
 * logs; an epoch longer than ten seconds adds a line every ten seconds),
 * nothing when silent.
 */
import cliProgress from 'cli-progress';
import type { BatchInfo, EpochInfo } from './train.ts';
import { progressLine } from '../core/progress-line.ts';

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
  onBatch(b: BatchInfo): void;
  /** Ends the bar (call once training is over, also on error). */
  stop(): void;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

/** "42% of 7,000,000 windows, loss 0.1234". */
const withinText = (b: BatchInfo): string =>
  `${b.part === 'validation' ? 'validation ' : ''}${Math.floor((100 * b.windows) / b.of)}% of ${b.of.toLocaleString('en')} windows, loss ${fmt(b.loss)}`;

export function createEpochProgress(opts: ProgressOptions): EpochProgress {
  if (opts.silent) return { onEpoch() {}, onBatch() {}, stop() {} };
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(stream.isTTY);
  if (!tty) {
    const width = String(opts.epochs).length;
    // Within an epoch: a line once it has run ten seconds, and every ten seconds after.
    const epochLine = () => progressLine('epoch', stream, { firstAfterMs: 10_000 });
    let within = epochLine();
    return {
      onEpoch(e) {
        within = epochLine();
        stream.write(`epoch ${String(e.epoch).padStart(width)}/${e.epochs}  loss ${fmt(e.loss)}  val_loss ${fmt(e.valLoss)}\n`);
      },
      onBatch(b) {
        within.update(() => `${b.epoch}/${b.epochs} ${withinText(b)}`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'epoch {bar} {value}/{total}  loss {loss}  val_loss {val_loss}  best {best}  eta {eta_formatted}  {within}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let best = Infinity;
  let running = true;
  bar.start(opts.epochs, 0, { loss: '-', val_loss: '-', best: '-', within: '' });
  return {
    onEpoch(e) {
      best = Math.min(best, e.valLoss);
      bar.update(e.epoch, { loss: fmt(e.loss), val_loss: fmt(e.valLoss), best: fmt(best), within: '' });
    },
    onBatch(b) {
      bar.update({ within: `epoch ${b.epoch}: ${withinText(b)}` });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
