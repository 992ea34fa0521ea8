/**
 * The engine layer says what went wrong: a program that fills JerryScript's
 * heap (whose fatal exit prints nothing) is an out-of-memory failure of that
 * engine, not a crash of the tool; any other failure stays what it was.
 */
import { describe, expect, it } from 'vitest';
import { EngineCapacityError, engineByName } from '../../parity/engines.ts';
import { failureDetail } from '../../parity/engine-output.ts';
import { UserError } from '../../core/errors.ts';

const jerry = engineByName('jerry');
const duk = engineByName('duk');

describe.skipIf(!jerry)('engines: JerryScript (JERRY_BIN)', () => {
  it('a program that fills the heap is an out-of-memory failure of the engine', async () => {
    const fill = 'var a = []; for (var i = 0; i < 1e6; i++) a.push(new Int8Array(1000)); print("END");';
    await expect(jerry!.run(fill)).rejects.toThrow(EngineCapacityError);
    await expect(jerry!.run(fill)).rejects.toThrow(/jerry: out of memory \(its heap is full\)/);
  });

  it('an exception is a failure of the program, not of memory', async () => {
    const err = await jerry!.run('throw new Error("boom");').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).not.toBeInstanceOf(EngineCapacityError);
  });
});

describe.skipIf(!duk)('engines: Duktape', () => {
  it("a program that does not parse: the message keeps Duktape's own SyntaxError, printed before its stack", async () => {
    const err = await duk!.run('var a = 1;\nvar b = ;\nprint("END");').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /^duk: the program did not run to the end \(.*\): SyntaxError: empty expression not allowed \(line 2\) \| … \| /,
    );
    expect(message).toContain('error in executing file');
    expect(message).not.toContain('\n');
  });
});

describe('failureDetail: the engine error line and the last lines', () => {
  it('keeps an error line the last lines would drop, once; cuts long output', () => {
    const dukOut =
      'SyntaxError: x (line 2)\n    at [anon] (run.js:2) internal\n    at [anon] (c:1) internal\nerror in executing file run.js\n';
    expect(failureDetail(dukOut)).toBe(
      'SyntaxError: x (line 2) | … | at [anon] (run.js:2) internal | at [anon] (c:1) internal | error in executing file run.js',
    );
    expect(failureDetail('a\nUncaught SyntaxError: Got ;\nb')).toBe('a | Uncaught SyntaxError: Got ; | b');
    expect(failureDetail('1\n2\n3\n4')).toBe('2 | 3 | 4');
    const long = failureDetail(`TypeError: ${'x'.repeat(500)}\n${'y'.repeat(500)}\n1\n2\n3`);
    expect(long.length).toBeLessThanOrEqual(200 + 7 + 300);
    expect(long.startsWith('TypeError: xxx')).toBe(true);
  });
});
