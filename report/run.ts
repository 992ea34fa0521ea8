/**
 * What a command hands the report: the run's own figures, as the command
 * computed them (the quantize report, what its figures are made of, the
 * training history when there is one), and the board the model is held
 * against. The report draws from these and computes nothing of its own.
 */
import type { Board } from '../codegen/boards.ts';
import type { QuantizedModel } from '../core/model.ts';
import type { Dataset } from '../data/windows.ts';
import type { QuantizeDetails, QuantizeReport } from '../pipeline/quantize.ts';

/** The loss of each epoch (training, validation) and the epoch kept, 1-based. */
export interface TrainingHistory {
  loss: number[];
  valLoss: number[];
  kept: number;
}

export interface ReportRun {
  /** The command that wrote the report, e.g. `demo`, `example mnist`. */
  command: string;
  /** The lines the command printed: the page's summary. */
  lines: string[];
  q: QuantizedModel;
  dataset: Dataset;
  report: QuantizeReport;
  details: QuantizeDetails;
  /** The training run's losses; absent: `noHistory` says why. */
  history?: TrainingHistory;
  noHistory?: string;
  board: Board;
}
