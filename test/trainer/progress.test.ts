import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createEpochProgress } from '../../trainer/progress.ts';

function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: w, text: () => out };
}

describe('createEpochProgress', () => {
  it('prints one plain line per epoch when not a TTY', () => {
    const s = sink(false);
    const p = createEpochProgress({ epochs: 12, stream: s.stream });
    p.onEpoch({ epoch: 1, epochs: 12, loss: 0.5, valLoss: 0.25 });
    p.onEpoch({ epoch: 2, epochs: 12, loss: 0.123456, valLoss: 0.2 });
    p.stop();
    expect(s.text()).toBe('epoch  1/12  loss 0.5000  val_loss 0.2500\nepoch  2/12  loss 0.1235  val_loss 0.2000\n');
  });

  it('prints nothing when silent', () => {
    const s = sink(true);
    const p = createEpochProgress({ epochs: 3, stream: s.stream, silent: true });
    p.onEpoch({ epoch: 1, epochs: 3, loss: 1, valLoss: 1 });
    p.stop();
    expect(s.text()).toBe('');
  });

  it('draws a bar with loss and val_loss on a TTY', () => {
    const s = sink(true);
    const p = createEpochProgress({ epochs: 3, stream: s.stream });
    p.onEpoch({ epoch: 1, epochs: 3, loss: 0.75, valLoss: 0.5 });
    p.onEpoch({ epoch: 2, epochs: 3, loss: 0.7, valLoss: 0.6 });
    p.stop();
    p.stop();
    expect(s.text()).toContain('2/3');
    expect(s.text()).toContain('val_loss 0.6000');
    expect(s.text()).toContain('best 0.5000');
  });
});
