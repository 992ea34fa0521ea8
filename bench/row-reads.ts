/**
 * How generated code should read gate rows with E.convolve on Espruino
 * (codegen/flash-weights.ts ROW_GROUP): per step of a 3x32 LSTM's gate
 * rows (128 rows of 35 int8), one view per row against views of 8 and 32
 * rows read at the row's offset, and the whole matrix read at the row's
 * offset; then the same views taken from short per-unit arrays (RU[u][g],
 * as the generated step reads them: a plain array is a list on Espruino),
 * and two int8 rows packed into one Int32Array row (w_a + w_b * 2^21: one
 * E.convolve gives both exact sums, split in JavaScript). All alternate in
 * one Espruino process, and each is checked to give the same sums.
 *
 *   ESPRUINO_BIN=/path/to/espruino npm run bench:row-reads [-- --rows 128 --width 35 --rounds 40]
 */
import { engineByName } from '../parity/engines.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 128);
const NV = arg('width', 35);
const ROUNDS = arg('rounds', 40);
if (ROWS % 4 !== 0) {
  process.stderr.write(`bench:row-reads: --rows ${ROWS} is not a multiple of 4 (four gates per unit)\n`);
  process.exit(2);
}

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
var UNITS = ROWS >> 2, RU = [], PR = [], P = new Int32Array((ROWS >> 1) * NV), u;
for (u = 0; u < UNITS; u++) RU.push([RW[u], RW[UNITS + u], RW[2 * UNITS + u], RW[3 * UNITS + u]]);
for (r = 0; r < ROWS >> 1; r++) { for (i = 0; i < NV; i++) P[r * NV + i] = W[r * NV + i] + W[(r + (ROWS >> 1)) * NV + i] * 2097152; PR.push(new Int32Array(P.buffer, r * NV * 4, NV)); }
function rowViews() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(RW[r], v, 0); return a; }
function group8() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(v, G8[r >> 3], (r & 7) * NV); return a; }
function group32() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(v, G32[r >> 5], (r & 31) * NV); return a; }
function wholeMatrix() { var a = 0, r; for (r = 0; r < ROWS; r++) a += E.convolve(v, W, r * NV); return a; }
function perUnit() { var a = 0, u, q; for (u = 0; u < UNITS; u++) { q = RU[u]; a += E.convolve(q[0], v, 0); a += E.convolve(q[1], v, 0); a += E.convolve(q[2], v, 0); a += E.convolve(q[3], v, 0); } return a; }
// s = lo + hi * 2^21 with |lo|, |hi| < 2^20: hi = floor((s + 2^20) / 2^21), exact (a power-of-two divisor), lo = s - hi * 2^21.
function packed() { var a = 0, p, s, hi; for (p = 0; p < ROWS >> 1; p++) { s = E.convolve(PR[p], v, 0); hi = (((s + 2199024304128) / 2097152) | 0) - 1048576; a += s - hi * 2097152; a += hi; } return a; }
var fs = [rowViews, group8, group32, wholeMatrix, perUnit, packed], t = [0, 0, 0, 0, 0, 0], k, j, t0, same = true;
for (j = 1; j < fs.length; j++) if (fs[j]() !== fs[0]()) same = false;
for (k = 0; k < ${ROUNDS}; k++) for (j = 0; j < fs.length; j++) { t0 = getTime(); fs[j](); t[j] += getTime() - t0; }
print("SAME " + same);
print("MS " + t.map(function (x) { return (x * 1000 / ${ROUNDS}).toFixed(3); }).join(" "));
print("END");
`;
const out = await espruino.run(program);
const same = out.find((l) => l.startsWith('SAME'))?.split(' ')[1] === 'true';
const ms = out
  .find((l) => l.startsWith('MS'))!
  .split(' ')
  .slice(1)
  .map(Number);
if (!same) throw new Error('the ways of reading rows gave different sums');
const names = [
  'one view per row',
  'views of 8 rows, at the row offset',
  'views of 32 rows, at the row offset',
  'the whole matrix, at the row offset',
  'one view per row, from per-unit arrays RU[u][g]',
  'two rows packed per Int32 row, sums split in JS',
];
console.log(`| ${ROWS} rows of ${NV} int8 | ms per pass | vs one view per row |`);
console.log('|---|---|---|');
names.forEach((n, k) => console.log(`| ${n} | ${ms[k]!.toFixed(2)} | ${(ms[k]! / ms[0]!).toFixed(2)}x |`));
