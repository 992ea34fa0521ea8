/**
 * The engine layer says what went wrong: a program that fills JerryScript's
 * heap (whose fatal exit prints nothing) is an out-of-memory failure of that
 * engine, not a crash of the tool; any other failure stays what it was.
 */
import { describe, expect, it } from 'vitest';
import { EngineCapacityError, engineByName } from '../../parity/engines.ts';
import { UserError } from '../../core/errors.ts';

const jerry = engineByName('jerry');

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
