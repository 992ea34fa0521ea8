/**
 * How generated code should read gate rows with E.convolve on Espruino
 * (codegen/flash-weights.ts ROW_GROUP): per step of a 3x32 LSTM's gate
 * rows (128 rows of 35 int8), one view per row against views of 8 and 32
 * rows read at the row's offset, and the whole matrix read at the row's
 * offset. The four alternate in one Espruino process, and each is checked
 * to give the same sums.
 *
 *   ESPRUINO_BIN=/path/to/espruino npm run bench:row-reads [-- --rows 128 --width 35 --rounds 40]
 */
import { engineByName } from '../runtime/engines.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 128);
const NV = arg('width', 35);
const ROUNDS = arg('rounds', 40);

const espruino = engineByName('espruino');
if (!espruino) {
  process.stderr.write('bench:row-reads needs ESPRUINO_BIN set to a Linux Espruino build\n');
  process.exit(2);
}

const program = `
var NV = ${NV}, ROWS = ${ROWS}, i, r;
var W = new Int8Array(NV * ROWS); for (i = 0; i < W.length; i++) W[i] = ((i * 37) % 255) - 127;
var v = new Int8Array(NV); for (i = 0; i < NV; i++) v[i] = (i * 11) % 200 - 100;
function groups(n) { var g = []; for (r = 0; r < ROWS; r += n) g.push(new Int8Array(W.buffer, r * NV, Math.min(n, ROWS - r) * NV)); return g; }
var RW = groups(1), G8 = groups(8), G32 = groups(32);
function rowViews() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(RW[r], v, 0); return a; }
function group8() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(v, G8[r >> 3], (r & 7) * NV); return a; }
function group32() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(v, G32[r >> 5], (r & 31) * NV); return a; }
function wholeMatrix() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(v, W, r * NV); return a; }
var fs = [rowViews, group8, group32, wholeMatrix], t = [0, 0, 0, 0], k, j, t0, same = true;
for (j = 1; j < 4; j++) if (fs[j]() !== fs[0]()) same = false;
for (k = 0; k < ${ROUNDS}; k++) for (j = 0; j < 4; j++) { t0 = getTime(); fs[j](); t[j] += getTime() - t0; }
print("SAME " + same);
print("MS " + t.map(function (x) { return (x * 1000 / ${ROUNDS}).toFixed(3); }).join(" "));
print("END");
`;
const out = await espruino.run(program);
const same = out.find((l) => l.startsWith('SAME'))?.split(' ')[1] === 'true';
const ms = out.find((l) => l.startsWith('MS'))!.split(' ').slice(1).map(Number);
if (!same) throw new Error('the four ways of reading rows gave different sums');
const names = ['one view per row', 'views of 8 rows, at the row offset', 'views of 32 rows, at the row offset', 'the whole matrix, at the row offset'];
console.log(`| ${ROWS} rows of ${NV} int8 | ms per pass | vs one view per row |`);
console.log('|---|---|---|');
names.forEach((n, k) => console.log(`| ${n} | ${ms[k]!.toFixed(2)} | ${(ms[k]! / ms[0]!).toFixed(2)}x |`));
