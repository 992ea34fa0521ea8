import { quantizeStep, type QuantizeReport } from '../pipeline/quantize.ts';
import { DEFAULT_WEIGHT_SCALE } from '../quantize/quantize.ts';
import { deliveredJson, deliveredLines } from './report-lines.ts';
import path from 'node:path';
import { Command, Option } from 'commander';
import { addDataOptions } from './training-options.ts';
import { fmt, intOption, printJson, runAction } from './common.ts';
import { UserError } from '../core/errors.ts';
import { importStep, type ImportStepOptions, type ImportStepResult } from '../pipeline/import.ts';
import { architectureName } from '../core/model.ts';
import { encodeFloatModel, sha256Hex } from '../core/artifact.ts';
import { writeFilesAtomic } from '../core/write-atomic.ts';
import { addBoardOption, reportFile } from './report-file.ts';
import type { Board } from '../codegen/boards.ts';

function numbers(flag: string) {
  return (value: string): number[] => {
    const v = value.split(',').map((s) => Number(s.trim()));
    if (v.some((x) => !Number.isFinite(x)) || value.trim() === '')
      throw new UserError(`${flag} '${value}': expected comma-separated numbers`);
    return v;
  };
}

/** What `import` reads from its command line (commander's keys): the step's options, --data and --features not yet checked. */
interface ImportOptions extends Omit<ImportStepOptions, 'data' | 'features'> {
  data?: string;
  features?: string[];
  out: string;
  json?: boolean;
  board: Board;
}

export function importCommand(): Command {
  const cmd = new Command('import')
    .description(
      'bring a model trained elsewhere into the int8 pipeline: an ONNX file (PyTorch) or a TensorFlow.js / Keras layers model (model.json), with the data it was trained on',
    )
    .argument('<model>', 'model.onnx, or the model.json of a tfjs-layers model (its weight files beside it)');
  addNormalizationOptions(addDataOptions(cmd))
    .addOption(
      new Option('--unknown-token <id>', 'a model with an Embedding: the id an id outside the vocabulary reads as')
        .argParser(intOption(1, 1 << 30))
        .default(1),
    )
    .addOption(new Option('--out <file>', 'the float model artifact').default('model.float.pb'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout');
  addBoardOption(cmd).action((modelFile: string, o: ImportOptions) => runAction('import', () => runImport(modelFile, o)));
  return cmd;
}

/** --input-mean, --input-std, --output-mean, --output-std: the normalization the model was trained with. */
function addNormalizationOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--input-mean <values>',
        'the normalization the model was trained with: mean of each feature (default: the training rows of --data)',
      ).argParser(numbers('--input-mean')),
    )
    .addOption(new Option('--input-std <values>', 'standard deviation of each feature').argParser(numbers('--input-std')))
    .addOption(
      new Option(
        '--output-mean <values>',
        'regression: mean of each target the model was trained to output (default: the training rows of --data)',
      ).argParser(numbers('--output-mean')),
    )
    .addOption(new Option('--output-std <values>', 'regression: standard deviation of each target').argParser(numbers('--output-std')));
}

async function runImport(modelFile: string, o: ImportOptions): Promise<void> {
  if (!o.data) throw new UserError('--data <csv> is required: the windows the model is checked, calibrated and scored on');
  if (!o.features) throw new UserError('--features <names> is required');
  const step = await importStep(modelFile, { ...o, data: o.data, features: o.features });
  const encoded = encodeFloatModel(step.model);
  // What the device would deliver: the model quantized with the defaults, its test series streamed through the app.
  const {
    model: q,
    report,
    details,
  } = quantizeStep(step.model, step.dataset, {
    weightScale: DEFAULT_WEIGHT_SCALE,
    floatModelSha256: sha256Hex(encoded),
    log: (line) => process.stderr.write(line + '\n'),
  });
  const imported: Imported = { ...step, modelFile, report };
  const lines = importedLines(imported, o);
  const noHistory = 'an imported model was trained elsewhere: no training history here';
  const page = await reportFile(path.dirname(o.out), {
    command: 'import',
    lines,
    q,
    dataset: step.dataset,
    report,
    details,
    noHistory,
    board: o.board,
  });
  // The model and its report: both or neither.
  writeFilesAtomic([{ path: o.out, data: encoded }, page]);
  for (const line of lines) console.log(line);
  console.log(`wrote        ${page.path}`);
  if (o.json) printJson(importedJson(imported, o));
}

/** What an import made, and what the device would deliver. */
interface Imported extends ImportStepResult {
  modelFile: string;
  report: QuantizeReport;
}

function importedLines({ modelFile, format, net, model, dataset, report, notes }: Imported, o: ImportOptions): string[] {
  const m = model.metrics;
  return [
    `imported     ${modelFile} (${format}${net.producer ? `, ${net.producer}` : ''}): ${architectureName(model.layers)} -> dense ${net.head.outputSize}${net.headActivation !== 'linear' ? ` (${net.headActivation})` : ''}`,
    ...notes,
    `data         ${path.basename(o.data!)}: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test windows of ${dataset.window}`,
    `float ${m.name.padEnd(7)}train ${fmt(m.train)}  validation ${fmt(m.validation)}  test ${fmt(m.test)}`,
    ...deliveredLines(report, model.window),
    `wrote        ${o.out} (next: lstm-mcu quantize ${o.out})`,
  ];
}

function importedJson({ modelFile, format, net, model, report, notes }: Imported, o: ImportOptions) {
  return {
    command: 'import',
    model: modelFile,
    format,
    producer: net.producer,
    out: o.out,
    layers: model.layers.map((l) => ({
      cell: l.cell,
      units: l.units,
      bidirectional: l.backward ? l.merge : null,
      ...(l.readout ? { readout: l.readout } : {}),
      reverse: l.reverse === true,
    })),
    metrics: model.metrics,
    notes: notes.map((line) => line.slice(13)),
    ...deliveredJson(report),
  };
}
