/**
 * The lines every command that trains or quantizes prints about what the
 * device delivers: how it runs the model, the streamed figure against the
 * baselines and whether the model beats them, the cell state's excursion,
 * drift, and the int8 budget. One wording for train, quantize and demo.
 */
import { fmt } from './common.ts';
import { DEPLOY_MARGIN, type QuantizeReport } from '../pipeline/quantize.ts';
import type { StreamedClassification, StreamedMetrics } from '../pipeline/streamed-eval.ts';

const label = (name: string) => name.padEnd(13);
const pct = (v: number) => `${v >= 0 ? '+' : ''}${fmt(100 * v, 3)}%`;

type Delivered = Pick<QuantizeReport, 'deployment' | 'streamed' | 'int8Warning' | 'inputsOutsideRange' | 'windowClasses'>;

export function deliveredLines(report: Delivered, window: number): string[] {
  const lines: string[] = [];
  const d = report.deployment;
  const s = report.streamed;
  if (d) {
    const steps =
      d.stepsPerReading === 1
        ? '1 step per reading'
        : `${d.stepsPerReading} steps per reading (the last ${window} readings from a zero state: about ${d.stepsPerReading}x the time and energy of a streamed reading, see npm run bench:deploy; --deploy stream if the board cannot afford it)`;
    const why =
      d.reason === 'validation'
        ? `chosen by the streamed validation ${s?.metric ?? 'metric'} (${d.candidates.map((c) => `${c.deployment} ${fmt(c.validation)}`).join(', ')}; a window must be ${fmt(100 * DEPLOY_MARGIN)}% better to be worth its steps)`
        : d.reason === 'asked'
          ? 'as asked (--deploy)'
          : 'the only way this model runs';
    lines.push(`${label('deployment')}${d.deployment}: ${steps}; ${why}`);
  }
  if (s) lines.push(...streamedLines(s));
  const wc = report.windowClasses;
  if (wc) {
    lines.push(
      `${label('baselines')}${wc.majority.name} ${fmt(wc.majority.value)} on the test windows (each its own sequence): the model ${wc.beats ? 'beats it' : 'does NOT beat it'}`,
    );
    lines.push(...classLines(wc));
  }
  const outside = report.inputsOutsideRange ?? 0;
  if (outside > 0 && !report.int8Warning)
    lines.push(`${label('inputs')}${fmt(100 * outside, 2)}% of the test readings lie outside the int8 input range and saturate`);
  const w = report.int8Warning;
  if (w) {
    lines.push(
      `${label('WARNING')}int8 misses the float model by ${pct(w.relativeChange)} on the ${w.on === 'streamed' ? 'streamed test series' : 'test windows'} (budget ${fmt(100 * w.budget)}%); try ${w.advice.join('; ')}`,
    );
  }
  return lines;
}

/** The same, for --json summaries. */
export function deliveredJson(report: Delivered) {
  return {
    ...(report.windowClasses ? { windowClasses: report.windowClasses } : {}),
    ...(report.inputsOutsideRange !== undefined ? { inputsOutsideRange: report.inputsOutsideRange } : {}),
    ...(report.deployment ? { deployment: report.deployment } : {}),
    ...(report.streamed ? { streamed: report.streamed } : {}),
    ...(report.int8Warning ? { int8Warning: report.int8Warning } : {}),
  };
}

export function streamedLines(s: StreamedMetrics): string[] {
  const lines: string[] = [];
  lines.push(
    `${label('streamed')}${s.metric} int8 ${fmt(s.int8)}${s.float !== undefined ? `  float ${fmt(s.float)}` : ''} at ${s.points} points of ${s.series} ${s.split} series ` +
      `(as the app runs: ${s.deployment === 'stream' ? 'streaming from the first reading' : 'a window at every reading'}, warm-up ${s.warmup}${s.bad ? `, ${s.bad} bad readings skipped, ${s.resets} resets` : ''})`,
  );
  const baselines = s.baselines.map((b) => `${b.name} ${fmt(b.value)}`);
  if (s.task === 'regression' && s.seasonalMissing) baselines.push(`seasonal naive: ${s.seasonalMissing}`);
  const verdict = s.best
    ? s.beats
      ? `the model beats the best baseline (${s.best.name})`
      : `the model does NOT beat ${s.best.name}`
    : 'nothing scored';
  lines.push(`${label('baselines')}${baselines.join(', ')}: ${verdict}, streamed`);
  if (s.otherDeployment) {
    const o = s.otherDeployment;
    lines.push(
      `${label(o.deployment === 'window' ? 'as windows' : 'as a stream')}int8 ${fmt(o.value)} with the same integers ${o.deployment === 'window' ? 'run as a window at every reading' : 'streamed from the first reading'}, same points`,
    );
  }
  if (s.task === 'regression' && s.drift?.beyondNoise && s.drift.relative > 0) {
    lines.push(
      s.deployment === 'stream'
        ? `${label('drift')}streamed, the model scores ${pct(s.drift.relative)} worse than on windows from a zero state (beyond noise): its state drifts over a long stream; --deploy window runs it as trained`
        : `${label('drift')}streamed, this model would score ${pct(s.drift.relative)} worse than as windows (beyond noise): the window deployment avoids its drift`,
    );
  }
  if (s.cell && s.cell.values > 0) {
    const c = s.cell;
    const o = s.otherDeployment?.cell;
    const way = (d: string) => (d === 'window' ? 'as windows' : 'streamed');
    lines.push(
      `${label('cell state')}max |c| ${c.maxAbs.join(', ')} ${way(s.deployment)}${o ? ` (${o.maxAbs.join(', ')} ${way(s.otherDeployment!.deployment)})` : ''} of 32767 (int16); ` +
        `${c.saturated} of ${c.values} values at the limit (${fmt((100 * c.saturated) / c.values, 2)}%)${o ? ` (${o.saturated} ${way(s.otherDeployment!.deployment)})` : ''}`,
    );
  }
  if (s.task === 'classification') lines.push(...classLines(s));
  return lines;
}

/** Per-class precision and recall (support), and the confusion matrix. */
function classLines(c: Pick<StreamedClassification, 'perClass' | 'confusion'>): string[] {
  return [
    `${label('per class')}${c.perClass.map((p) => `${p.label}: precision ${fmt(p.precision, 3)} recall ${fmt(p.recall, 3)} (${p.support})`).join('; ')}`,
    `${label('confusion')}rows true, columns predicted: ${c.confusion.map((r) => `[${r.join(' ')}]`).join(' ')}`,
  ];
}
