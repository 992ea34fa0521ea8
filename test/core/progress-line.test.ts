/**
 * Progress of long tasks: silent for the first second (or as long as asked),
 * then throttled; phases report only once a command turns them on.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { endPhase, phaseTick, progressLine, reportPhases, startPhase } from '../../core/progress-line.ts';

function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY });
  return { stream: w, text: () => out };
}

describe('progressLine', () => {
  it('in a log: nothing in the first second, then a line every ten seconds', () => {
    const s = sink(false);
    let t = 0;
    const p = progressLine('reading a.csv', s.stream, { now: () => t });
    for (t = 0; t < 25_000; t += 100) p.update(() => `${t} ms`);
    p.done();
    expect(s.text()).toBe('reading a.csv: 1000 ms\nreading a.csv: 11000 ms\nreading a.csv: 21000 ms\n');
  });

  it('on a terminal: one line rewritten every second, closed by done()', () => {
    const s = sink(true);
    let t = 0;
    const p = progressLine('epoch', s.stream, { now: () => t, firstAfterMs: 2000 });
    for (t = 0; t <= 4000; t += 500) p.update(() => `at ${t}`);
    p.done();
    expect(s.text()).toBe('\r\x1b[Kepoch: at 2000\r\x1b[Kepoch: at 3000\r\x1b[Kepoch: at 4000\n');
  });

  it('a short task prints nothing, and the text is not even computed', () => {
    const s = sink(false);
    const p = progressLine('quick', s.stream, { now: () => 999 });
    p.update(() => {
      throw new Error('computed');
    });
    p.done();
    expect(s.text()).toBe('');
  });
});

describe('phases', () => {
  it('report the running phase once it has run a second, and nothing once reporting is off', async () => {
    const s = sink(false);
    reportPhases(true, s.stream);
    startPhase('quantize: calibrating');
    phaseTick(1, 10, 'windows');
    await new Promise((r) => setTimeout(r, 1100));
    phaseTick(5, 10, 'windows');
    endPhase();
    reportPhases(false);
    startPhase('train: float rmse');
    await new Promise((r) => setTimeout(r, 1100));
    phaseTick(5, 10, 'windows');
    endPhase();
    expect(s.text()).toBe('quantize: calibrating: 50% of 10 windows\n');
  });
});
