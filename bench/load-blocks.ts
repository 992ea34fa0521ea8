/**
 * Why a generated `espruino` module does not load on Espruino's STM32F405 firmware
 * (7,500 variables of 16 bytes): the variables alive at once while it decodes its
 * native context, `atob(NATIVE_CONTEXT)`. String literals are copied into RAM when
 * their statement runs (the program itself runs from flash), so then the weights'
 * base64 literals (W_B64, ...), the kernels' (NATIVE_KERNELS), the context's and the
 * decoded context are all alive. Two runs, each of which fits: the module up to its
 * kernels' literal (the blocks in use there), then those literals and the decoding
 * alone (the blocks they add). A lower bound on the load's peak: the kernel's own
 * decoding comes after. Undefined where the module's text has no such statements.
 */
import { runStm32f405 } from '../parity/stm32f405.ts';

const KERNELS = /^\s*var NATIVE_KERNELS = /;
const CONTEXT = /^\s*var NATIVE_CONTEXT = "/;

/** Prints `blocks N` (memory in use now) and the done line. */
const report = (usage: string) => `print("blocks " + (${usage})); print("<<done>>");`;

async function blocks(elf: string, program: string): Promise<number> {
  const run = await runStm32f405(elf, program, { doneLine: '<<done>>', timeoutS: 60 });
  const found = run.lines.map((l) => /^blocks (\d+)$/.exec(l)).find(Boolean);
  if (!found) throw new Error(`no "blocks" line: ${run.lines.slice(-3).join(' | ')}`);
  return Number(found[1]);
}

/** Blocks alive at once while the module `code` (global name m) decodes its native context as `board`. */
export async function contextDecodeBlocks(elf: string, code: string, board: string): Promise<number | undefined> {
  const lines = code.split('\n');
  const k = lines.findIndex((l) => KERNELS.test(l));
  const c = lines.findIndex((l) => CONTEXT.test(l));
  if (k < 0 || c < 0 || !/^var m = \(function/m.test(code)) return undefined;
  // the module's text up to the kernels' literal, inside its own function, then closed
  const head = [
    `var memory = process.memory, process = { env: { BOARD: "${board}" } };`,
    ...lines.slice(0, k),
    report('memory().usage'),
    '})();',
  ];
  const before = await blocks(elf, head.join('\n'));
  const literals = [
    'var before = process.memory().usage;',
    lines[k]!,
    lines[c]!,
    'var decoded = atob(NATIVE_CONTEXT);',
    report('process.memory().usage - before'),
  ];
  return before + (await blocks(elf, literals.join('\n')));
}
