/**
 * Put a bundle on an Espruino board and prove it arrived intact.
 *
 * 1. Connect (espruino-tools reads process.env) and check the board has Storage.
 * 2. Weights in flash: write their Storage file, check its CRC-32 on the board.
 * 3. Write the bundle to a staging Storage file and check its CRC-32 there.
 * 4. Copy it to .bootcde (the code Espruino runs at boot), erase the staging
 *    file, check .bootcde's CRC-32, and load() it: the board reboots into the app.
 * 5. Ask the app for verify(): the CRC-32 of the model data it holds and the
 *    output of its self-test, both compared with the host's.
 *
 * A timeout or a disconnect before step 4 leaves the board running what it ran
 * before (.bootcde untouched; at most a stale staging file, erased by the next
 * flash); after step 4 the board holds the complete, checked new app.
 */
import type { Bundle } from './bundle.ts';
import { BoardConnection } from './espruino-tools.ts';
import { UserError } from '../core/errors.ts';
import { crc32 } from '../core/crc32.ts';

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
async function boardEnv(board: BoardConnection, o: FlashOptions, leftMs: number): Promise<Record<string, any>> {
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
    board.send('\x10reset();\n');
    await new Promise((r) => setTimeout(r, 500));
    await board.evaluate('1', 'resetting the board', o.timeoutMs);
    try {
      await stageAndSave(board, bundle, o);
    } catch (e) {
      // Not saved, still connected: bring back the app the board had (.bootcde is untouched).
      if (!(e instanceof SaveError) && !board.isClosed) board.send('\x10load()\n');
      throw e;
    }
    board.clearOutput();
    board.send('\x10load()\n');
    await board.waitFor(/lstm-mcu app started|Uncaught [^\r\n]*/, 'the app starting after load()', o.timeoutMs);
    const started = /Uncaught [^\r\n]*/.exec(board.printed);
    if (started) throw new UserError(`the app failed on the board: ${started[0]}`);

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
    board.clearOutput();
    if (o.listenMs > 0) await new Promise((r) => setTimeout(r, o.listenMs));
    return { board: name, version: env.VERSION, checksum, selfTest, bundleBytes: Buffer.byteLength(bundle.code), printed: board.printed };
  } finally {
    await board.close();
  }
}

/** A failure after .bootcde was rewritten: the board holds the new app, whatever went wrong. */
class SaveError extends UserError {}

/** Steps 2-4: the weights file, the staging file, then .bootcde. */
async function stageAndSave(board: BoardConnection, bundle: Bundle, o: FlashOptions): Promise<void> {
  if (bundle.flash) {
    const { file, bytes } = bundle.flash;
    o.log(`writing the weights: Storage file "${file}", ${bytes.length} bytes`);
    await board.writeStorageFile(file, bytes, o.timeoutMs, (done, total) => o.progress?.(file, done, total));
    await expectCrc(board, file, crc32(bytes), o.timeoutMs); // E.CRC32 is the same CRC (IEEE, as zlib)
  }
  const code = Buffer.from(bundle.code, 'ascii');
  o.log(`writing the app: ${code.length} bytes to Storage file "${STAGING_FILE}"`);
  await board.writeStorageFile(STAGING_FILE, code, o.timeoutMs, (done, total) => o.progress?.(STAGING_FILE, done, total));
  await expectCrc(board, STAGING_FILE, bundle.crc32, o.timeoutMs);

  o.log('saving: the app replaces .bootcde, then the board loads it');
  const commit = `(function(){var S=require("Storage");S.write(".bootcde",S.read(${JSON.stringify(STAGING_FILE)}));S.erase(${JSON.stringify(STAGING_FILE)});return ${storageCrc('.bootcde')};})()`;
  const saved = await board.evaluate(commit, 'saving .bootcde', o.timeoutMs);
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
