/**
 * Why an engine cannot hold a model, in one line: the estimate's need while
 * the module loads (codegen/boards.ts) against what the engine has, and
 * whether its weights in flash would fit. The watch's firmware has 12,000
 * blocks of 14 bytes; the Linux Espruino build grows its memory as it needs
 * (process.memory().total: 4,096 blocks of 27 bytes at start, over 260,000
 * after allocating 4 MB); JerryScript has its heap (512 KiB).
 */
import { deviceBudget, JERRY_DEFAULT_HEAP_KIB, parseBoard, type Board } from '../codegen/boards.ts';
import { emitModule, type EmitOptions } from '../codegen/emit-module.ts';
import type { QuantizedModel } from '../core/model.ts';
import type { EngineName } from '../parity/engines.ts';

/** The engines that run the espruino target's native path (E.convolve, typed-array views, Storage). */
export const ESPRUINO_ENGINES: readonly EngineName[] = ['espruino', 'bangle2'];

/** The memory the estimate is held against for an engine: a board, or none (the Linux build grows its own). */
function engineBoard(engine: EngineName): Board | undefined {
  if (engine === 'bangle2') return parseBoard('banglejs2');
  if (engine === 'jerry') return parseBoard(`jerryscript:${JERRY_DEFAULT_HEAP_KIB}`);
  return undefined;
}

export interface CapacityVerdict {
  line: string;
  /** The espruino target with its weights in flash fits this engine. */
  flashFits: boolean;
}

/** One line: which engine, what the model needs there (weights in RAM) against what it has, and whether --weights flash fits. */
export function capacityVerdict(q: QuantizedModel, engine: EngineName, detail: string): CapacityVerdict {
  const storage = ESPRUINO_ENGINES.includes(engine);
  const board = engineBoard(engine);
  if (!board) return { line: `${engine}: ${detail}`, flashFits: storage };
  const ram = fitsIn(q, board, 'ram');
  const flash = storage ? fitsIn(q, board, 'flash') : undefined;
  const has = board.kind === 'espruino' ? `${board.blocks} blocks of ${board.blockSize} bytes` : `${board.heapBytes} bytes`;
  const unit = board.kind === 'espruino' ? 'blocks' : 'bytes';
  const alternative = !flash
    ? ''
    : flash.fits
      ? `; --weights flash would fit (~${flash.peak} ${unit})`
      : `; with --weights flash it would not fit either (~${flash.peak} ${unit})`;
  return {
    line: `${engine}: out of memory: the model needs ~${ram.peak} ${unit} while it loads with weights in RAM, it has ${has}${alternative}`,
    flashFits: Boolean(flash?.fits),
  };
}

/**
 * The need of the module that runs on `board` (espruino target on Espruino, es5 on JerryScript), with no
 * reserve for an app, as the engines load it: typed into the console (the watch's runner) or read from a file.
 */
function fitsIn(q: QuantizedModel, board: Board, weights: 'ram' | 'flash') {
  const emit: EmitOptions = {
    target: board.kind === 'espruino' ? 'espruino' : 'es5',
    globalName: 'lstmModel',
    modelSha256: '',
    generatorVersion: '',
    ...(weights === 'flash' ? { flash: { file: 'lstm-parity.bin', writer: 'the parity run' } } : {}),
  };
  const p = deviceBudget(q, board, [{ weights, code: emitModule(q, emit) }], emit, 0).placements[0]!;
  return { peak: p.typed.peak, fits: p.typed.peak <= (board.kind === 'espruino' ? board.blocks : board.heapBytes) };
}

/**
 * The watch's estimate is never below the firmware's own count and within 1.3x of it
 * (test/codegen/boards.test.ts), so a need past 1.3 times its blocks cannot load there: known
 * without typing the program in (which takes minutes for a model of 100 KB). The es5 target holds
 * the same weights text and decoded arrays. Undefined where the engine has to be tried.
 */
export const WATCH_ESTIMATE_MARGIN = 1.3;

export function surelyCannotLoad(q: QuantizedModel, engine: EngineName): string | undefined {
  if (engine !== 'bangle2') return undefined;
  const board = engineBoard(engine)!;
  if (board.kind !== 'espruino') return undefined;
  const { peak } = fitsIn(q, board, 'ram');
  if (peak <= WATCH_ESTIMATE_MARGIN * board.blocks) return undefined;
  return `${engine}: out of memory: ~${peak} blocks estimated while it loads, over ${WATCH_ESTIMATE_MARGIN} times the ${board.blocks} it has (not run)`;
}
