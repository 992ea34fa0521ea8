/**
 * A classifier of independent windows (the MNIST and text examples: each
 * window is its own sequence, so there is no stream to replay): the int8
 * model's test windows as a confusion matrix, per-class precision and
 * recall, against the majority class of the training windows.
 */
import { classNamesOf } from '../core/model.ts';
import { argmax } from '../data/metrics.ts';
import type { Dataset } from '../data/windows.ts';
import { majorityClass, perClassOf, type StreamedClassification } from './streamed-eval.ts';

export interface WindowClasses {
  accuracy: number;
  majority: { name: string; value: number };
  beats: boolean;
  confusion: number[][];
  perClass: StreamedClassification['perClass'];
}

/** `logits`: the int8 model's outputs per test window ([n][classes], or [n] for a sigmoid head). */
export function windowClasses(dataset: Dataset, logits: ArrayLike<number>): WindowClasses | undefined {
  if (dataset.task !== 'classification' || dataset.sequence === 'many-to-many') return undefined;
  const C = dataset.classLabels.length;
  const n = dataset.test.n;
  const sigmoid = logits.length === n && C === 2;
  const confusion = dataset.classLabels.map(() => new Array<number>(C).fill(0));
  const majority = majorityClass(dataset);
  let hits = 0;
  let majorityHits = 0;
  for (let k = 0; k < n; k++) {
    const label = dataset.test.y[k]!;
    const predicted = sigmoid ? (logits[k]! > 0 ? 1 : 0) : argmax(logits, k, C);
    confusion[label]![predicted]!++;
    if (predicted === label) hits++;
    if (majority === label) majorityHits++;
  }
  const accuracy = hits / n;
  const name = `majority class (${classNamesOf(dataset)[majority]})`;
  return {
    accuracy,
    majority: { name, value: majorityHits / n },
    beats: accuracy > majorityHits / n,
    confusion,
    perClass: perClassOf(confusion, classNamesOf(dataset)),
  };
}
