/**
 * The program `lstm-mcu record` puts on a board, run here over stand-ins for
 * Espruino's globals (its clock, print, timers, E.CRC32): the lines it prints
 * are read back by the host's parser exactly, console noise is ignored, and a
 * line damaged on the way is never taken for a sample.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as acorn from 'acorn';
import { appSource } from '../../firmware/app-source.ts';
import { parseSourceList, sourceColumns } from '../../firmware/app-config.ts';
import { END_PREFIX, RECORD_GLOBAL, recordSource, recordUpload, SAMPLE_PREFIX } from '../../firmware/record-program.ts';
import { parseRecordLine, RecordLineReader, type RecordLine } from '../../firmware/record-lines.ts';
import { crc32 } from '../../core/crc32.ts';

const READER = 'var tick = 0;\nfunction readSensor(out) { tick++; out[0] = Math.sin(tick / 5); out[1] = tick * 0.5; }\n';
const TWO = parseSourceList('function', 2);

/** The program run in a fresh context; `tick()` advances the clock by `stepS` and fires the timer. */
function runProgram(code: string, o: { crc?: boolean; startS?: number; extra?: Record<string, unknown> } = {}) {
  const printed: string[] = [];
  const timer: { fn?: () => void; ms?: number; cleared: number } = { cleared: 0 };
  let now = o.startS ?? 5000.25;
  const context: Record<string, unknown> = {
    print: (s: string) => printed.push(String(s)),
    getTime: () => now,
    setInterval: (fn: () => void, ms: number) => ((timer.fn = fn), (timer.ms = ms), 17),
    clearInterval: (id: number) => {
      if (id === 17) timer.cleared++;
    },
    E: o.crc === false ? {} : { CRC32: (s: string) => crc32(Buffer.from(s, 'latin1')) },
    ...o.extra,
  };
  vm.runInNewContext(code, context);
  const api = () => context[RECORD_GLOBAL] as { start(): void; stop(): void; state(): [number, boolean] };
  const tick = (stepS: number) => {
    now += stepS;
    timer.fn!();
  };
  return { printed, timer, api, tick, context };
}

describe('the record program', () => {
  it('parses as ES5, as kept and as filled', () => {
    expect(() => acorn.parse(appSource('record'), { ecmaVersion: 5 })).not.toThrow();
    const code = recordSource({ sources: TWO, reader: READER, intervalMs: 100, stopOnDisconnect: true });
    expect(() => acorn.parse(code, { ecmaVersion: 5 })).not.toThrow();
  });

  it.each([false, true])('prints a line per sample that the host reads back exactly (minified upload: %s)', async (minified) => {
    const o = { sources: TWO, reader: READER, intervalMs: 100, stopOnDisconnect: false };
    const code = minified ? await recordUpload(o) : recordSource(o);
    const p = runProgram(code);
    p.api().start();
    expect(p.timer.ms).toBe(100);
    for (const step of [0, 0.1, 0.1004, 0.0996]) p.tick(step);
    p.api().stop();
    expect(p.timer.cleared).toBe(1);
    expect(p.api().state()).toEqual([4, false]);
    const lines = p.printed.map((l) => parseRecordLine(l, 2));
    const expected: RecordLine[] = [0, 1, 2, 3].map((k) => ({
      kind: 'sample',
      sample: k,
      ms: [0, 100, 200, 300][k]!,
      readings: [Math.sin((k + 1) / 5), (k + 1) * 0.5],
    }));
    expect(lines).toEqual([...expected, { kind: 'end', samples: 4 }]);
    expect(p.printed[0]).toMatch(new RegExp(`^${SAMPLE_PREFIX},0,0,[-0-9.e]+,0\\.5\\*[0-9a-f]+$`));
  });

  it('a reader that throws stops the sampling and says why, then ends; a second program stops the first', () => {
    const reader = 'var k = 0;\nfunction readSensor(out) { if (++k === 3) throw new Error("sensor gone"); out[0] = k; }\n';
    const code = recordSource({ sources: parseSourceList('function', 1), reader, intervalMs: 50, stopOnDisconnect: false });
    const p = runProgram(code);
    p.api().start();
    for (let i = 0; i < 3; i++) p.tick(0.05);
    expect(p.printed.slice(2).map((l) => parseRecordLine(l, 1))).toEqual([
      { kind: 'error', sample: 2, message: 'Error: sensor gone' },
      { kind: 'end', samples: 2 },
    ]);
    expect(p.timer.cleared).toBe(1);
    // running the program again (a new recording) first stops one that still samples
    const q = runProgram(code);
    q.api().start();
    q.tick(0.05);
    vm.runInContext(code, vm.createContext(q.context));
    expect(q.printed.at(-1)).toBe(`${END_PREFIX},1`);
  });

  it('without E.CRC32 a line carries "-" and is still read, on its other checks', () => {
    const p = runProgram(recordSource({ sources: TWO, reader: READER, intervalMs: 100, stopOnDisconnect: false }), { crc: false });
    p.api().start();
    p.tick(0);
    expect(p.printed[0]).toMatch(/\*-$/);
    expect(parseRecordLine(p.printed[0]!, 2)).toMatchObject({ kind: 'sample', sample: 0 });
  });

  it("reads every source kind with the app's own code, powers the compass for mag, and stops on a Bluetooth disconnect", () => {
    const sources = parseSourceList('temperature,analog:D3,accel,mag', 0);
    expect(sources.flatMap((s) => sourceColumns(s)!)).toEqual([
      'temperature',
      'analog_D3',
      'accel_x',
      'accel_y',
      'accel_z',
      'mag_x',
      'mag_y',
      'mag_z',
    ]);
    const calls: string[] = [];
    const handlers: Record<string, unknown> = {};
    const p = runProgram(recordSource({ sources, intervalMs: 200, stopOnDisconnect: true }), {
      extra: {
        E: { getTemperature: () => 21.5, CRC32: (s: string) => crc32(Buffer.from(s, 'latin1')) },
        analogRead: (pin: string) => (pin === 'D3' ? 0.25 : NaN),
        D3: 'D3',
        Bangle: {
          getAccel: () => ({ x: 1, y: 2, z: 3 }),
          getCompass: () => ({ x: -4, y: 5, z: -6 }),
          setCompassPower: (on: number, client: string) => calls.push(`compass ${on} ${client}`),
        },
        NRF: {
          on: (event: string, fn: unknown) => ((handlers[event] = fn), calls.push(`on ${event}`)),
          removeListener: (event: string, fn: unknown) => calls.push(`off ${event} ${handlers[event] === fn}`),
        },
      },
    });
    p.api().start();
    p.tick(0.2);
    expect(parseRecordLine(p.printed[0]!, 8)).toMatchObject({ readings: [21.5, 0.25, 1, 2, 3, -4, 5, -6] });
    (handlers.disconnect as () => void)();
    expect(calls).toEqual(['compass 1 lstm-mcu record', 'on disconnect', 'compass 0 lstm-mcu record', 'off disconnect true']);
    expect(p.api().state()).toEqual([1, false]);
  });
});

describe('reading the lines back', () => {
  const signed = (body: string) => `${body}*${crc32(Buffer.from(body, 'latin1')).toString(16)}`;

  it('takes a sample after a prompt or an erased line, and ignores console noise', () => {
    const line = signed(`${SAMPLE_PREFIX},7,700,1.5,-2e-7`);
    expect(parseRecordLine(`>\r\x1b[J${line}`, 2)).toEqual({ kind: 'sample', sample: 7, ms: 700, readings: [1.5, -2e-7] });
    expect(parseRecordLine(`${SAMPLE_PREFIX},1,100,2${line}`, 2)).toMatchObject({ kind: 'sample', sample: 7 });
    for (const noise of ['>', '=undefined', 'lstm-mcu t=3 x1=0.5000 error=-', 'Uncaught Error: x', ''])
      expect(parseRecordLine(noise, 2)).toBeUndefined();
  });

  it('never takes a damaged line for a sample: a wrong checksum, a field too many or too few, text for a number', () => {
    const body = `${SAMPLE_PREFIX},3,300,1.25,4`;
    const good = signed(body);
    const damaged = [
      good.replace('1.25', '1.26'),
      good.replace('*', '0*'),
      signed(`${body},5`),
      signed(`${SAMPLE_PREFIX},3,300,1.25`),
      signed(`${SAMPLE_PREFIX},3,300,1.2x,4`),
      signed(`${SAMPLE_PREFIX},3,300,0x10,4`),
      body,
      good.slice(0, -1) + 'g',
    ];
    for (const line of damaged) expect(parseRecordLine(line, 2), line).toMatchObject({ kind: 'corrupt' });
    expect(parseRecordLine(good, 2)).toMatchObject({ kind: 'sample', readings: [1.25, 4] });
  });

  it('a reading the board printed as NaN or Infinity is NaN (the host skips the sample)', () => {
    expect(parseRecordLine(signed(`${SAMPLE_PREFIX},0,0,NaN,-Infinity`), 2)).toEqual({
      kind: 'sample',
      sample: 0,
      ms: 0,
      readings: [NaN, NaN],
    });
  });

  it('takes only whole lines, however the output is cut into chunks', () => {
    const text = ['>', signed(`${SAMPLE_PREFIX},0,0,1,2`), 'noise', signed(`${SAMPLE_PREFIX},1,20,3,4`), `${END_PREFIX},2`, ''].join(
      '\r\n',
    );
    for (const cut of [1, 5, 17, 40]) {
      const reader = new RecordLineReader(2);
      const got: RecordLine[] = [];
      for (let at = 0; at < text.length; at += cut) got.push(...reader.push(text.slice(at, at + cut)));
      expect(got.map((l) => l.kind)).toEqual(['sample', 'sample', 'end']);
    }
    const reader = new RecordLineReader(2);
    expect(reader.push(signed(`${SAMPLE_PREFIX},0,0,1,2`))).toEqual([]);
  });
});
