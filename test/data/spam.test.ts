/**
 * The Keras text classifier example on the SpamAssassin corpus, small: the
 * words, the vocabulary, the padded ids and the split; the command end to
 * end (train with dropout, quantize, codegen, parity) with a small model that
 * must beat chance; `simulate` replays the model's own test messages. The
 * full example is `lstm-mcu example spam`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildVocabulary, encodeWords, loadSpamDataset, messageWords, UNKNOWN_TOKEN } from '../../data/spam.ts';
import { trainLstm } from '../../trainer/train.ts';
import { initBackend } from '../../trainer/backend.ts';
import { runCli } from '../helpers/run-cli.ts';
import { windowRange } from '../../data/window-set.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-spam-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('spam data', () => {
  it('reads the subject and the body, not the other headers; drops tags and entities; digits become #', () => {
    const raw = 'From: a@b.example\nReceived: from relay.example\nSubject: Win $1000 NOW!\n\n<p>Don&#39;t miss&nbsp;it</p> 42 times';
    expect(messageWords(raw)).toEqual(['win', '$', '#', 'now', '!', 'don', 't', 'miss', 'it', '#', 'times']);
    expect(messageWords('Subject: only headers')).toEqual(['only', 'headers']);
  });

  it('ids: padding 0, unknown 1, then words by frequency (ties by spelling); the first words, padded in front', () => {
    const vocab = buildVocabulary(
      [
        ['b', 'a', 'c', 'a'],
        ['b', 'd'],
      ],
      5,
    );
    expect(vocab).toEqual(['', '<unknown>', 'a', 'b', 'c']);
    const ids = new Map(vocab.map((w, i) => [w, i] as const).slice(2));
    expect(Array.from(encodeWords(['c', 'zz', 'a'], ids, 5))).toEqual([0, 0, 4, UNKNOWN_TOKEN, 2]);
    expect(Array.from(encodeWords(['a', 'b', 'c', 'a'], ids, 2))).toEqual([2, 3]);
  });

  it('every message with words, 80/10/10 per class, deterministic; ids below the vocabulary', () => {
    const a = loadSpamDataset({ vocabulary: 500, maxLength: 40, seed: 1 });
    const { train, validation, test } = a.dataset;
    expect(train.n + validation.n + test.n).toBeGreaterThan(6000);
    const spamShare = (s: { y: Float32Array; n: number }) => s.y.reduce((t, v) => t + v, 0) / s.n;
    for (const s of [train, validation, test]) expect(spamShare(s)).toBeCloseTo(1896 / 6046, 1);
    expect(a.dataset.vocabulary).toMatchObject({ size: 500, unknownToken: 1 });
    expect(windowRange(train.x, 0, train.n).reduce((m, v) => Math.max(m, v), 0)).toBe(499);
    // Padding only in front: once a word starts, no more padding.
    for (let n = 0; n < test.n; n++) {
      const w = Array.from(test.x.at(n));
      const first = w.findIndex((v) => v !== 0);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(w.slice(first).includes(0)).toBe(false);
    }
    const testX = (seed: number) => {
      const t = loadSpamDataset({ vocabulary: 500, maxLength: 40, seed }).dataset.test;
      return windowRange(t.x, 0, t.n);
    };
    expect(testX(1)).toEqual(windowRange(test.x, 0, test.n));
    expect(testX(2)).not.toEqual(windowRange(test.x, 0, test.n));
  });
});

describe('training with an embedding', () => {
  const { dataset } = loadSpamDataset({ vocabulary: 50, maxLength: 12, perClass: 20, seed: 3 });
  const base = { units: 4, epochs: 1, batchSize: 16, learningRate: 0.01, patience: 0, seed: 1, head: 'sigmoid' as const };

  it('returns the table and refuses what token inputs cannot do, in one line', async () => {
    const { tf } = await initBackend('auto');
    const r = await trainLstm(dataset, { ...base, embeddingDim: 3, tf });
    expect(r.embedding).toMatchObject({ vocabularySize: 50, dim: 3, unknownToken: 1 });
    expect(r.embedding!.table).toHaveLength(150);
    expect(r.layers[0]!.inputSize).toBe(3);
    await expect(trainLstm(dataset, { ...base, bidirectional: 'concat', tf })).rejects.toThrow(/forward layers only/);
    await expect(trainLstm({ ...dataset, sequence: 'many-to-many' }, { ...base, tf })).rejects.toThrow(
      /train many-to-one, not many-to-many/,
    );
    await expect(trainLstm(dataset, { ...base, cell: 'peephole', dropout: 0.2, tf })).rejects.toThrow(
      /dropout is available for the lstm, gru and rnn cells/,
    );
    await expect(trainLstm(dataset, { ...base, dropout: 1, tf })).rejects.toThrow(/dropout must be in \[0, 1\)/);
  }, 120_000);

  it('is deterministic with dropout: the same seed gives the same weights', async () => {
    const { tf } = await initBackend('auto');
    const o = { ...base, embeddingDim: 3, dropout: 0.3, recurrentDropout: 0.3, tokenDropout: 0.3, tf };
    const a = await trainLstm(dataset, o);
    const b = await trainLstm(dataset, o);
    const c = await trainLstm(dataset, { ...o, seed: 2 });
    expect(a.embedding!.table).toEqual(b.embedding!.table);
    expect(a.layers[0]!.kernel).toEqual(b.layers[0]!.kernel);
    expect(c.layers[0]!.kernel).not.toEqual(a.layers[0]!.kernel);
  }, 120_000);
});

describe('lstm-mcu example spam (small)', () => {
  it('learns, quantizes, generates and checks parity; simulate replays its test messages', async () => {
    const out = path.join(tmp, 'out');
    const args = [
      '--per-class',
      '300',
      '--units',
      '8',
      '--embedding',
      '8',
      '--vocabulary',
      '300',
      '--epochs',
      '6',
      '--learning-rate',
      '0.01',
      '--patience',
      '0',
    ];
    const r = await runCli(
      ['example', 'spam', ...args, '--calibration', '200', '--parity-windows', '4', '--out', out, '--json', '--quiet'],
      tmp,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.metrics.name).toBe('accuracy');
    // Balanced test messages: chance is 50%.
    expect(s.metrics.float).toBeGreaterThan(0.7);
    expect(Math.abs(s.metrics.int8 - s.metrics.float)).toBeLessThanOrEqual(0.05);
    expect(s.parity.mismatches).toBe(0);
    // Table 300x8, LSTM 4*8 rows over 8+8, head 1x8 + its bias, biases and multipliers 2*4*32.
    expect(s.weightBytes).toBe(300 * 8 + 4 * 8 * (8 + 8) + 8 + 4 + 2 * 4 * 32);
    for (const f of ['model.float.pb', 'model.q.pb', 'model.espruino.js', 'model.es5.js', 'summary.json'])
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    const sim = await runCli(['simulate', path.join(out, 'model.q.pb'), '--windows', '3', '--json'], tmp);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).not.toContain('none replayed');
    expect(JSON.parse(sim.stdout.trim().split('\n').pop()!).parity.mismatches).toBe(0);
    const bad = await runCli(['example', 'spam', '--vocabulary', '2', '--out', path.join(tmp, 'bad')], tmp);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
  }, 300_000);
});
