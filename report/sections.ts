/**
 * The report's sections, in page order: each a function of the run giving
 * its title and charts (Vega-Lite specs), or one line saying why the run
 * holds no data for it. A new section is one more function in SECTIONS.
 */
import type { TopLevelSpec } from 'vega-lite';
import { confusionData, forecastData, isMissing, lossData } from './gather.ts';
import { errorData, memoryData, rangeData } from './gather-device.ts';
import { bytesSpec, confusionSpec, errorHistogramSpec, errorLineSpec, forecastSpec, lossSpec, memorySpec, rangeSpec } from './specs.ts';
import type { ReportRun } from './run.ts';

export interface SectionView {
  title: string;
  charts: TopLevelSpec[];
  /** Lines of text under the title. */
  notes?: string[];
}

export interface SectionMissing {
  title: string;
  /** Why the run holds no data for this section (one line). */
  missing: string;
}

export type Section = (run: ReportRun) => SectionView | SectionMissing;

export const trainingSection: Section = (run) => {
  const title = 'Training';
  const d = lossData(run);
  return isMissing(d) ? { title, missing: d.missing } : { title, charts: [lossSpec(d)] };
};

export const forecastSection: Section = (run) => {
  const title = 'Forecasts on the test series';
  const d = forecastData(run);
  if (isMissing(d)) return { title, missing: d.missing };
  return {
    title,
    charts: d.flatMap((t) => [forecastSpec(t), forecastSpec(t, true)]),
    notes: [
      'Each series streamed from its first reading through the app’s rules, as on the board, at the points the streamed figure scores; the baselines forecast the same points.',
    ],
  };
};

export const confusionSection: Section = (run) => {
  const title = 'Confusion matrices';
  const d = confusionData(run);
  return isMissing(d) ? { title, missing: d.missing } : { title, charts: d.matrices.map((m) => confusionSpec(d, m)) };
};

export const errorSection: Section = (run) => {
  const d = errorData(run);
  return { title: 'int8 against float', charts: [errorLineSpec(d), errorHistogramSpec(d)] };
};

export const rangeSection: Section = (run) => {
  const d = rangeData(run);
  return { title: 'Quantization ranges per layer', charts: [rangeSpec(d)], notes: d.layers };
};

export const memorySection: Section = (run) => {
  const d = memoryData(run);
  return {
    title: `Memory on ${d.budget.board.name}`,
    charts: [memorySpec(d), bytesSpec(d)],
    notes: [`As \`lstm-mcu codegen --board ${d.budget.board.id}\` counts it; the need while loading from Storage decides whether it fits.`],
  };
};

/** The sections in page order. */
export const SECTIONS: readonly Section[] = [trainingSection, forecastSection, confusionSection, errorSection, rangeSection, memorySection];
