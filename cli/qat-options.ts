/**
 * The command line's side of quantization-aware fine-tuning: its options
 * (quantize, demo, the examples) and its summary line.
 */
import { Command, Option } from 'commander';
import { floatOption, fmt, intOption } from './common.ts';
import { QAT_DEFAULTS, type QatSummary } from '../pipeline/qat.ts';

/** --qat [epochs], --qat-learning-rate, --qat-batch-size (quantize, demo, the examples); `on`: what it trains on. */
export function addQatOptions(cmd: Command, on = 'the training windows'): Command {
  return cmd
    .addOption(
      new Option(
        '--qat [epochs]',
        `quantization-aware fine-tuning before quantizing: the float model trains on ${on} with the int8 contract simulated, for this many epochs`,
      )
        .argParser(intOption(1, 1000))
        .preset(String(QAT_DEFAULTS.epochs)),
    )
    .addOption(
      new Option('--qat-learning-rate <lr>', 'learning rate of the fine-tuning')
        .argParser(floatOption(0, 1, { exclusiveMin: true }))
        .default(QAT_DEFAULTS.learningRate),
    )
    .addOption(
      new Option('--qat-batch-size <n>', 'windows per fine-tuning batch').argParser(intOption(1, 65536)).default(QAT_DEFAULTS.batchSize),
    );
}

/** "float 0.0238, int8 post-training 0.0248 (+3.98%), int8 QAT 0.0236 (-1.10%), epoch 3 of 3 kept" */
export function qatLine(s: QatSummary): string {
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${fmt(100 * v, 3)}%`;
  const t = s.test;
  return (
    `float ${fmt(t.float)}, int8 post-training ${fmt(t.int8PostTraining)} (${pct(t.postTrainingChange)}), int8 QAT ${fmt(t.int8Qat)} (${pct(t.qatChange)}); ` +
    (s.bestEpoch
      ? `epoch ${s.bestEpoch} of ${s.epochs} kept`
      : `no epoch came closer to the float model on the validation windows: the model as given kept`)
  );
}
