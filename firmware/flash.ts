/**
 * Put a bundle on an Espruino board and prove it arrived intact, without ever
 * leaving the board without a working app.
 *
 * 1. Connect (espruino-tools reads process.env) and check the board has Storage.
 * 2. Make room for everything that coexists during the switch: the new
 *    weights (unless already there), the staged app and the new .bootcde, all
 *    beside the old app and its weights (Storage is compacted when its deleted
 *    space would make it fit); otherwise refuse before writing anything.
 * 3. Weights in flash: their Storage file has a name per model (weights-name.ts,
 *    compiled into the app), so it is written beside the old app's weights,
 *    which stay untouched; skipped when it is on the board with the right CRC-32;
 *    checked by CRC-32 on the board.
 * 4. Write the bundle to a staging Storage file and check its CRC-32 there.
 * 5. Start the staged app (load() of the staging file) and ask it for verify():
 *    the CRC-32 of the model data it holds and the output of its self-test,
 *    both compared with the host's. An app that fails here never reaches .bootcde.
 * 6. Check again that the new app's size is free for the commit (.bootcde is
 *    rewritten while the old one and the staged copy still exist).
 * 7. Copy the staged app to .bootcde (the code Espruino runs at boot), erase
 *    the staging file, check .bootcde's CRC-32, load() it and verify() again.
 * 8. Only then erase the weights files of earlier lstm-mcu apps (per-model
 *    names other than the new app's) that no JavaScript file in Storage names.
 *
 * A failure, timeout or disconnect before step 7 leaves .bootcde and the old
 * app's weights untouched; when the connection is still up the staging file
 * and the weights this run wrote are erased and the previous app reloaded,
 * and the error says so. After step 7 the board holds the complete, checked
 * new app.
 */
import type { Bundle } from './bundle.ts';
import { BoardConnection } from './espruino-tools.ts';
import { UserError } from '../core/errors.ts';
import { crc32 } from '../core/crc32.ts';
import { WEIGHTS_FILE_PATTERN } from './weights-name.ts';

/** Storage file the bundle is written to before it replaces .bootcde. */
export const STAGING_FILE = 'lstm-app.new';

export interface FlashResult {
  board: string;
  version: string;
  checksum: number;
  selfTest: number[];
  bundleBytes: number;
  /** What the board printed in the listening time after it verified. */
  printed: string;
}

export interface FlashOptions {
  port: string;
  appGlobal: string;
  /** Each step's time limit. */
  timeoutMs: number;
  /** Keep listening this long after verifying, to collect what the app prints. */
  listenMs: number;
  log: (line: string) => void;
  /** Chunks of a Storage file written so far (a progress bar). */
  progress?: (file: string, done: number, total: number) => void;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** CRC-32 of a Storage file on the board, or -1 when it is missing. */
const storageCrc = (name: string) =>
  `(function(){var f=require("Storage").read(${JSON.stringify(name)});return f===undefined?-1:E.CRC32(f)>>>0;})()`;

/**
 * process.env of the board: read by espruino-tools on connect, or, when that failed (a busy
 * board's output hid the answer), after a Ctrl-C stops what runs, within the time left. Silence
 * is reported as silence; an answer that is not Espruino's says what was printed.
 */
export async function boardEnv(
  board: BoardConnection,
  o: Pick<FlashOptions, 'port' | 'timeoutMs'>,
  leftMs: number,
): Promise<Record<string, any>> {
  if (board.env.VERSION) return board.env;
  board.send('\x03');
  await new Promise((r) => setTimeout(r, 300));
  try {
    const env = (await board.evaluate('process.env', 'reading process.env', Math.max(1000, leftMs))) as Record<string, any> | null;
    if (env && typeof env.VERSION === 'string') return env;
  } catch {
    // judged below by what the board printed
  }
  if (board.printed.trim() === '')
    throw new UserError(`no answer from ${o.port} within ${o.timeoutMs / 1000} s: it printed nothing (is this an Espruino board's port?)`);
  throw new UserError(`${o.port} answered, but not as an Espruino board (it printed ${JSON.stringify(board.printed.trim().slice(-80))})`);
}

export async function flashBundle(bundle: Bundle, o: FlashOptions): Promise<FlashResult> {
  o.log(`connecting to ${o.port}`);
  const connectStart = Date.now();
  const board = await BoardConnection.open(o.port, o.timeoutMs);
  try {
    const env = await boardEnv(board, o, o.timeoutMs - (Date.now() - connectStart));
    const name = `${env.BOARD ?? 'unknown board'} ${env.VERSION ?? ''}`.trim();
    if (typeof env.MODULES === 'string' && !env.MODULES.split(',').includes('Storage'))
      throw new UserError(`${name} has no Storage module; lstm-mcu flash needs Espruino 1v96 or later`);
    o.log(`connected: ${name}`);
    // Stop what runs now (RAM is cleared; .bootcde stays): a running app's functions may be read
    // from the very Storage this upload rewrites.
    await resetBoard(board, o);
    await stageAndCommit(board, bundle, o);
    o.log('starting the saved app');
    await startApp(board, 'load()', o);
    const { checksum, selfTest } = await verifyApp(board, bundle, o);
    await eraseEarlierWeights(board, bundle.flash?.file, o);
    board.clearOutput();
    if (o.listenMs > 0) await new Promise((r) => setTimeout(r, o.listenMs));
    return { board: name, version: env.VERSION, checksum, selfTest, bundleBytes: Buffer.byteLength(bundle.code), printed: board.printed };
  } finally {
    await board.close();
  }
}

/** Stop what runs (RAM is cleared; Storage stays): a running app's functions may be read from the very Storage being rewritten. */
async function resetBoard(board: BoardConnection, o: FlashOptions): Promise<void> {
  board.send('\x10reset();\n');
  await new Promise((r) => setTimeout(r, 500));
  await board.evaluate('1', 'resetting the board', o.timeoutMs);
}

/** Run `command` (a load()) and wait for the app's start line; an exception at load is the board's own message. */
async function startApp(board: BoardConnection, command: string, o: FlashOptions): Promise<void> {
  board.clearOutput();
  board.send(`\x10${command}\n`);
  await board.waitFor(/lstm-mcu app started|Uncaught [^\r\n]*/, `the app starting after ${command}`, o.timeoutMs);
  const failed = /Uncaught [^\r\n]*/.exec(board.printed);
  if (failed) throw new UserError(`the app failed on the board after ${command}: ${failed[0]}`);
}

/** verify() of the running app against the host: the model data's CRC-32 and the self-test. */
async function verifyApp(board: BoardConnection, bundle: Bundle, o: FlashOptions): Promise<{ checksum: number; selfTest: number[] }> {
  o.log('verifying');
  const answer = await board.evaluate(`${o.appGlobal}.verify()`, 'verify()', o.timeoutMs);
  const [checksumText, selfTestText] = String(answer).split(' ');
  const checksum = Number(checksumText);
  const selfTest = (selfTestText ?? '').split(',').map(Number);
  if (checksum !== bundle.expected.checksum) {
    throw new UserError(
      `verification failed: the model data on the board has CRC-32 ${hex(checksum)}, the host's is ${hex(bundle.expected.checksum)}`,
    );
  }
  if (selfTest.join(',') !== bundle.expected.selfTest.join(',')) {
    throw new UserError(
      `verification failed: the board's self-test output is [${selfTest.join(', ')}], the simulator's is [${bundle.expected.selfTest.join(', ')}]`,
    );
  }
  return { checksum, selfTest };
}

/** A failure after .bootcde was rewritten: the board holds the new app, whatever went wrong. */
class SaveError extends UserError {}

/**
 * Steps 2-7. On a failure before the commit, while still connected: the staged copy and the
 * weights this run wrote are erased and the app the board had is loaded again.
 */
async function stageAndCommit(board: BoardConnection, bundle: Bundle, o: FlashOptions): Promise<void> {
  // Weights already on the board under their per-model name (same CRC-32) are not written again.
  const weightsThere = bundle.flash
    ? (await board.evaluate(storageCrc(bundle.flash.file), `looking for "${bundle.flash.file}"`, o.timeoutMs)) === crc32(bundle.flash.bytes)
    : false;
  let wroteWeights = false;
  try {
    const appBytes = Buffer.byteLength(bundle.code);
    const weightsBytes = bundle.flash && !weightsThere ? bundle.flash.bytes.length : 0;
    await makeRoom(board, [weightsBytes, appBytes, appBytes], o);
    wroteWeights = weightsBytes > 0;
    await stage(board, bundle, weightsThere, o);
    o.log(`trying the staged app: load("${STAGING_FILE}") and verify()`);
    await startApp(board, `load(${JSON.stringify(STAGING_FILE)})`, o);
    await verifyApp(board, bundle, o);
    await resetBoard(board, o);
    await makeRoom(board, [0, 0, appBytes], o);
    await commit(board, bundle, o);
  } catch (e) {
    // Not saved, still connected: drop the staged copy (and new weights) and bring back the app the board had.
    if (!(e instanceof SaveError) && !board.isClosed) {
      const restored = await restorePrevious(board, [STAGING_FILE, ...(wroteWeights ? [bundle.flash!.file] : [])], o);
      if (e instanceof UserError) throw new UserError(`${e.message}; ${restored}`);
    }
    throw e;
  }
}

/**
 * After a failure before the commit, still connected: erase `files` and load() the saved app again
 * (the board was reset), then wait for an answer before the link may close. espruino-tools queues
 * what it writes, and closing the connection dropped a line still in that queue: the watch's bridge
 * received no load(), and the board ran nothing. Returns what the board holds and runs, for the error.
 */
async function restorePrevious(board: BoardConnection, files: string[], o: FlashOptions): Promise<string> {
  board.send(`\x10${files.map((f) => `require("Storage").erase(${JSON.stringify(f)});`).join('')}load();\n`);
  try {
    await new Promise((r) => setTimeout(r, 500));
    await board.evaluate('1', 'loading the previous app again', o.timeoutMs);
    return 'the board still holds and runs its previous app (.bootcde unchanged)';
  } catch (e) {
    return `the board still holds its previous app (.bootcde unchanged), but could not be told to load it again (${(e as Error).message}): reset the board`;
  }
}

/** Steps 3-4: the weights file (unless it is there already), then the staging file, each checked. */
async function stage(board: BoardConnection, bundle: Bundle, weightsThere: boolean, o: FlashOptions): Promise<void> {
  if (bundle.flash && weightsThere) o.log(`the weights are on the board already: Storage file "${bundle.flash.file}"`);
  if (bundle.flash && !weightsThere) {
    const { file, bytes } = bundle.flash;
    o.log(`writing the weights: Storage file "${file}", ${bytes.length} bytes`);
    await board.writeStorageFile(file, bytes, o.timeoutMs, (done, total) => o.progress?.(file, done, total));
    await expectCrc(board, file, crc32(bytes), o.timeoutMs); // E.CRC32 is the same CRC (IEEE, as zlib)
  }
  const code = Buffer.from(bundle.code, 'ascii');
  o.log(`writing the app: ${code.length} bytes to Storage file "${STAGING_FILE}"`);
  await board.writeStorageFile(STAGING_FILE, code, o.timeoutMs, (done, total) => o.progress?.(STAGING_FILE, done, total));
  await expectCrc(board, STAGING_FILE, bundle.crc32, o.timeoutMs);
}

/** Storage bytes a file of `bytes` takes beyond its data (its header, rounded up). */
const FILE_OVERHEAD = 64;

/**
 * Steps 2 and 6: room for [new weights, staged app, new .bootcde] (0: not to be written). The
 * commit writes a new .bootcde while the old one and the staged copy exist, and the old app's
 * weights stay until the new app is saved, so all of them must be free at once; compact when the
 * deleted space would make it so, else refuse.
 */
async function makeRoom(board: BoardConnection, files: [number, number, number], o: FlashOptions): Promise<void> {
  const stats = async () =>
    (await board.evaluate(
      '(function(){var S=require("Storage"),s=S.getStats?S.getStats():{freeBytes:S.getFree(),trashBytes:0};return [s.freeBytes,s.trashBytes];})()',
      'reading the free Storage',
      o.timeoutMs,
    )) as [number, number];
  const need = files.reduce((sum, bytes) => sum + (bytes > 0 ? bytes + FILE_OVERHEAD : 0), 0);
  let [free, trash] = await stats();
  if (free >= need) return;
  if (free + trash >= need) {
    o.log(`compacting Storage: ${free} bytes free, ${trash} deleted, ${need} needed`);
    await board.evaluate('(require("Storage").compact(),1)', 'compacting Storage', Math.max(o.timeoutMs, 60_000));
    [free, trash] = await stats();
    if (free >= need) return;
  }
  throw new UserError(
    `the board's Storage cannot hold the app twice while it is saved (the staged copy and the new .bootcde${files[0] > 0 ? ', beside the new weights' : ''}): ${need} bytes needed, ${free} free${trash ? `, ${trash} deleted` : ''}; free some Storage, or make the app smaller (--weights flash, fewer units)`,
  );
}

/** Step 7: the staged app becomes .bootcde, checked. */
async function commit(board: BoardConnection, bundle: Bundle, o: FlashOptions): Promise<void> {
  o.log('saving: the app replaces .bootcde, then the board loads it');
  const commit = `(function(){var S=require("Storage");S.write(".bootcde",S.read(${JSON.stringify(STAGING_FILE)}));S.erase(${JSON.stringify(STAGING_FILE)});return ${storageCrc('.bootcde')};})()`;
  let saved: unknown;
  try {
    saved = await board.evaluate(commit, 'saving .bootcde', o.timeoutMs);
  } catch (e) {
    // .bootcde may be gone; the staged copy is erased only after it was written
    throw new SaveError(
      `${(e as Error).message}; .bootcde may be lost, the checked new app is still in "${STAGING_FILE}" (load(${JSON.stringify(STAGING_FILE)}) runs it): flash again`,
    );
  }
  if (saved !== bundle.crc32)
    throw new SaveError(`.bootcde on the board has CRC-32 ${hex(Number(saved))}, expected ${hex(bundle.crc32)}: flash again`);
}

async function expectCrc(board: BoardConnection, file: string, expected: number, timeoutMs: number): Promise<void> {
  const got = await board.evaluate(storageCrc(file), `checking "${file}"`, timeoutMs);
  if (got === -1)
    throw new UserError(`"${file}" is not on the board after writing it (is its Storage full? require("Storage").getFree() tells)`);
  if (got !== expected)
    throw new UserError(
      `"${file}" on the board has CRC-32 ${hex(Number(got))}, expected ${hex(expected)}: the upload was damaged; flash again`,
    );
}

/**
 * Step 8, after the new app verified: erase the per-model weights files other than `keep` that no
 * JavaScript file in Storage (.bootcde, .boot0, an App Loader app) names, so weights another app
 * reads stay. A failure here is reported, not thrown: the new app is saved and runs.
 */
async function eraseEarlierWeights(board: BoardConnection, keep: string | undefined, o: FlashOptions): Promise<void> {
  const erase = `(function(){var S=require("Storage"),code=S.list(/\\.js$|^\\.boot/),gone=[];S.list(${WEIGHTS_FILE_PATTERN}).forEach(function(f){if(f===${JSON.stringify(keep ?? '')})return;for(var i=0;i<code.length;i++)if(S.read(code[i]).indexOf(f)>=0)return;S.erase(f);gone.push(f);});return gone;})()`;
  try {
    const gone = (await board.evaluate(erase, 'erasing the weights of earlier apps', o.timeoutMs)) as string[];
    if (gone.length > 0) o.log(`erased the weights of earlier apps: ${gone.join(', ')}`);
  } catch (e) {
    o.log(`the new app is saved and verified, but the weights of earlier apps could not be erased: ${(e as Error).message}`);
  }
}
