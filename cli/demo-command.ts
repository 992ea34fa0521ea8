import path from 'node:path';
import { Command, Option } from 'commander';
import { addDeployOption, addTrainingOptions, trainStepOptions } from './training-options.ts';
import { deliveredJson, deliveredLines } from './report-lines.ts';
import { fmt, printJson, runAction } from './common.ts';
import { builtinSensorCsv, DEMO_DEFAULTS } from './builtin-data.ts';
import { trainStep } from '../pipeline/train.ts';
import { deliver, writeDelivery } from '../pipeline/deliver.ts';
import { addQatOptions, qatLine } from './qat-options.ts';
import { persistenceRmse } from '../data/metrics.ts';
import { architectureName, lastLayer } from '../core/model.ts';

/** Steps replayed in the demo's parity check: test windows plus random sequences with extremes. */
const PARITY_WINDOWS = 200;
const PARITY_RANDOM_SEGMENTS = 20;
const PARITY_RANDOM_STEPS = 50;

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('the whole path on built-in real sensor data: train, quantize, generate code, check parity')
    .addOption(new Option('--out <dir>', 'where to write every artifact').default('out'))
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .option('--quiet', 'no progress output');
  addTrainingOptions(cmd, {
    data: builtinSensorCsv(),
    dataDescription: 'the built-in TelosB mote data',
    ...DEMO_DEFAULTS,
    features: [...DEMO_DEFAULTS.features],
    target: [...DEMO_DEFAULTS.target],
  });
  addQatOptions(cmd);
  addDeployOption(cmd);
  cmd.action((o) =>
    runAction('demo', async () => {
      const started = performance.now();
      const out = o.out as string;
      const log = (s: string) => {
        if (!o.quiet) process.stderr.write(s + '\n');
      };

      // The built-in data is four motes' series: its group column applies only to it.
      const builtin = cmd.getOptionValueSource('data') === 'default';
      const options = trainStepOptions({ ...o, group: o.group ?? (builtin ? DEMO_DEFAULTS.group : undefined) }, Boolean(o.quiet));
      log('1/4 train');
      const { model: float, dataset, backend, epochs } = await trainStep(options);
      const delivery = await deliver(float, dataset, {
        out,
        seed: o.seed,
        parityWindows: PARITY_WINDOWS,
        randomSegments: PARITY_RANDOM_SEGMENTS,
        randomSteps: PARITY_RANDOM_STEPS,
        log,
        deploy: o.deploy,
        ...(o.qat ? { qat: { epochs: o.qat, learningRate: o.qatLearningRate, batchSize: o.qatBatchSize, seed: o.seed } } : {}),
      });
      const { files, report, generated, parity, ram } = delivery;
      // With QAT: the float model trained against the int8 model on the device (the fine-tuned float model's is in the report).
      const t = delivery.qat?.summary.test;
      const m = t ? { ...report.metrics, float: t.float, int8: t.int8Qat, relativeChange: t.qatChange } : report.metrics;
      // The naive forecast (the target's last reading), for scale: a model should beat it.
      const persistence = persistenceRmse(dataset, dataset.test);
      const summary = {
        command: 'demo',
        data: { path: float.provenance.data, windows: { train: dataset.train.n, validation: dataset.validation.n, test: dataset.test.n } },
        epochs,
        model: {
          cell: float.layers[0].cell,
          layers: float.layers.length,
          bidirectional: float.layers[0].backward ? float.layers[0].merge : null,
          inputs: float.featureNames,
          units: lastLayer(float).units,
          outputs: float.targetNames,
          window: float.window,
          horizon: float.horizon,
          backend,
        },
        metrics: {
          name: m.name,
          float: m.float,
          int8: m.int8,
          relativeChange: m.relativeChange,
          persistence,
          split: 'test',
          windows: m.windows,
        },
        ...deliveredJson(report),
        ...(report.forecast ? { forecast: report.forecast } : {}),
        ...(delivery.qat
          ? { qat: { ...delivery.qat.summary.test, bestEpoch: delivery.qat.summary.bestEpoch, epochs: delivery.qat.summary.epochs } }
          : {}),
        parity: { engines: parity.engines, steps: parity.steps, mismatches: parity.mismatches, skipped: parity.skipped },
        code: Object.fromEntries(generated.map((g) => [g.target, Buffer.byteLength(g.code)])),
        ram,
        artifacts: {
          float: files.float,
          ...(delivery.qat ? { qatFloat: files.qatFloat } : {}),
          quantized: files.quantized,
          report: files.report,
          ...Object.fromEntries(generated.map((g) => [g.target, g.jsPath])),
        },
        seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      };

      writeDelivery(delivery, summary);

      const unit = m.name === 'rmse' ? ` ${float.targetNames.join(',')} units` : '';
      console.log(
        `data         ${path.basename(float.provenance.data)}: ${dataset.train.n} train / ${dataset.validation.n} validation / ${dataset.test.n} test windows`,
      );
      console.log(
        `model        ${architectureName(float.layers)} on ${float.featureNames.join(', ')} -> ${float.targetNames.join(', ')} (+${float.horizon}), window ${float.window}, ${backend}`,
      );
      console.log(
        `epoch kept   ${epochs.kept} of ${epochs.run} run (the best validation loss), ${fmt(epochs.secondsPerEpoch, 3)} s per epoch`,
      );
      console.log(
        `${`test ${m.name}`.padEnd(13)}float ${fmt(m.float)}  int8 ${fmt(m.int8)}  (${m.relativeChange >= 0 ? '+' : ''}${fmt(100 * m.relativeChange, 3)}%)${unit}`,
      );
      if (delivery.qat) console.log(`QAT          ${qatLine(delivery.qat.summary)}`);
      if (persistence !== undefined) console.log(`baseline     last reading (persistence) ${fmt(persistence)} on the test windows`);
      for (const line of deliveredLines(report, float.window)) console.log(line);
      const f = report.forecast;
      if (f)
        console.log(
          `forecast     ${f.steps} steps ahead, fed back (${f.windows} windows): RMSE float ${fmt(f.float)}  int8 ${fmt(f.int8)}  persistence ${fmt(f.persistence)}`,
        );
      console.log(`code         ${generated.map((g) => `${g.target} ${Buffer.byteLength(g.code)} B`).join(', ')}`);
      console.log(
        `model RAM    ~${ram.blocks} Espruino blocks (${ram.weightBytes} B weights, ${ram.tableBytes} B tables, ${ram.stateBytes} B state)`,
      );
      console.log(
        `parity       ${parity.mismatches === 0 ? 'exact' : `${parity.mismatches} MISMATCHES`} on ${parity.engines.join(', ')}: ${parity.steps} steps each (test windows, test series streamed, random), both targets`,
      );
      for (const r of parity.results.filter((x) => x.mismatch)) console.log(`  ${r.message}`);
      for (const s of parity.skipped) console.log(`  skipped ${s}`);
      console.log(`artifacts    ${out}/`);
      if (o.json) printJson(summary);
      if (parity.mismatches > 0) process.exitCode = 1;
    }),
  );
  return cmd;
}
