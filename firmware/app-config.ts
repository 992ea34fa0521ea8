/**
 * What the on-device app is told at bundle time: where each reading comes
 * from, how often, which readings count as bad, and what it reports. Checked
 * against the model here, so a bundle never reaches a board that cannot feed
 * its model.
 */
import { classNamesOf, type QuantizedModel } from '../core/model.ts';
import { UserError } from '../core/errors.ts';

/**
 * Reading sources on Espruino boards, each giving `channels` readings:
 * - temperature: E.getTemperature() (every board), °C;
 * - analog:PIN: analogRead(PIN), 0..1;
 * - accel: x, y, z of the accelerometer (Puck.accel().acc on Puck.js, Bangle.getAccel() on Bangle.js);
 * - mag: x, y, z of the magnetometer (Puck.mag() on Puck.js, Bangle.getCompass() on Bangle.js);
 * - function: a user function readSensor(out) that writes every reading into out (the --reader file).
 */
export type SourceKind = 'temperature' | 'analog' | 'accel' | 'mag' | 'function';
export const SOURCE_KINDS: readonly SourceKind[] = ['temperature', 'analog', 'accel', 'mag', 'function'];

export interface Source {
  kind: SourceKind;
  /** analog only: the pin name (D3, A0, ...). */
  pin?: string;
  /** Readings it gives per sample. */
  channels: number;
}

/** A closed range a reading must lie in to be used. */
export interface ValidRange {
  lo: number;
  hi: number;
}

export interface AppConfig {
  /** Module name the app requires the model under. */
  moduleName: string;
  sources: Source[];
  /** JavaScript that defines readSensor(out), for the 'function' source. */
  reader?: string;
  /** Milliseconds between samples. */
  intervalMs: number;
  /** Per model input, in feature order. */
  validRanges: ValidRange[];
  /** Consecutive bad samples after which the model state is reset (the sequence is broken). */
  maxBadRun: number;
  /** Steps after a reset before a forecast counts (is scored, shown, can alert). */
  warmup: number;
  console: boolean;
  /** Bluetooth advertising of each result (boards with NRF). */
  advertise: boolean;
  /** Draw the last result on the screen (boards with a display: Bangle.js, Pixl.js). */
  display: boolean;
  /** Watch the board's button (BTN) to reset the model. */
  resetButton: boolean;
  /** Alert when the score passes this (regression: forecast error in target units; classification: probability). */
  alertAbove?: number;
  /** Classification: the output index whose probability is the score. */
  alertClass: number;
}

/** Readings each source kind gives. */
const CHANNELS: Record<Exclude<SourceKind, 'function'>, number> = { temperature: 1, analog: 1, accel: 3, mag: 3 };

/**
 * "temperature,analog:D3" -> sources, in order; a 'function' source (alone)
 * gives `functionChannels` readings, the count its reader writes.
 */
export function parseSourceList(spec: string, functionChannels: number): Source[] {
  const sources = spec.split(',').map((part): Source => {
    const [kind, pin, extra] = part.trim().split(':');
    if (!SOURCE_KINDS.includes(kind as SourceKind))
      throw new UserError(`--source '${part}': expected one of ${SOURCE_KINDS.join(', ')} (analog as analog:PIN)`);
    if (kind === 'analog') {
      if (pin === undefined || !/^[A-Z][A-Z0-9_]*$/.test(pin) || extra !== undefined)
        throw new UserError(`--source '${part}': an analog source names its pin, e.g. analog:D3 or analog:A0`);
      return { kind, pin, channels: 1 };
    }
    if (pin !== undefined) throw new UserError(`--source '${part}': only analog takes a pin`);
    if (kind === 'function') return { kind, channels: functionChannels };
    return { kind: kind as SourceKind, channels: CHANNELS[kind as Exclude<SourceKind, 'function'>] };
  });
  if (sources.some((s) => s.kind === 'function') && sources.length > 1)
    throw new UserError(`--source '${spec}': 'function' gives every reading; it cannot be combined with other sources`);
  return sources;
}

/** "temperature,analog:D3" -> sources; their readings must add up to the model's inputs, in feature order. */
export function parseSources(spec: string, q: QuantizedModel): Source[] {
  const inputs = q.layers[0].inputSize;
  const features = `${inputs} reading${inputs === 1 ? '' : 's'} (${q.featureNames.join(', ')})`;
  const sources = parseSourceList(spec, inputs);
  const total = sources.reduce((s, x) => s + x.channels, 0);
  if (total !== inputs)
    throw new UserError(
      `--source '${spec}' gives ${total} reading${total === 1 ? '' : 's'} per sample, but the model reads ${features}; use --source function with a --reader file, or sources whose readings add up`,
    );
  return sources;
}

/**
 * The names of a source's readings as `record` writes them in its CSV header
 * (the feature names a model trained on the recording has); a 'function'
 * source has none: its reader's readings are named by the user.
 */
export function sourceColumns(s: Source): string[] | undefined {
  switch (s.kind) {
    case 'temperature':
      return ['temperature'];
    case 'analog':
      return [`analog_${s.pin}`];
    case 'accel':
    case 'mag':
      return ['x', 'y', 'z'].map((axis) => `${s.kind}_${axis}`);
    case 'function':
      return undefined;
  }
}

/**
 * Default valid range of each feature: its training mean ± `spread` training
 * standard deviations. Far outside it a reading is a sensor fault, not data
 * the model has seen.
 */
export const DEFAULT_RANGE_SPREAD = 8;

/** "temperature=-40:85,humidity=0:100" over the defaults. */
export function parseValidRanges(spec: string | undefined, q: QuantizedModel): ValidRange[] {
  // six significant digits: a readable bound in the generated app, the same number everywhere
  const digits6 = (v: number) => Number(v.toPrecision(6));
  const ranges = q.featureNames.map((_, i) => ({
    lo: digits6(q.inputNorm.mean[i] - DEFAULT_RANGE_SPREAD * q.inputNorm.std[i]),
    hi: digits6(q.inputNorm.mean[i] + DEFAULT_RANGE_SPREAD * q.inputNorm.std[i]),
  }));
  if (spec === undefined) return ranges;
  for (const part of spec.split(',')) {
    const m = /^\s*([^=]+?)\s*=\s*([^:]+):(.+)$/.exec(part);
    const name = m?.[1];
    const lo = Number(m?.[2]);
    const hi = Number(m?.[3]);
    if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi))
      throw new UserError(`--valid-range '${part}': expected FEATURE=LOW:HIGH with LOW < HIGH, e.g. temperature=-40:85`);
    const i = q.featureNames.indexOf(name!);
    if (i < 0) throw new UserError(`--valid-range '${part}': the model has no feature '${name}' (it has ${q.featureNames.join(', ')})`);
    ranges[i] = { lo, hi };
  }
  return ranges;
}

/** What the score of a model is, or why it has none. */
export function scoreKind(
  q: QuantizedModel,
): { kind: 'forecast-error'; targets: number[] } | { kind: 'probability' } | { kind: 'none'; why: string } {
  if (q.task === 'classification') return { kind: 'probability' };
  const targets = q.targetNames.map((t) => q.featureNames.indexOf(t));
  if (targets.some((t) => t < 0))
    return {
      kind: 'none',
      why: `its targets (${q.targetNames.join(', ')}) are not all among its features, so the device never sees the value a forecast is compared with`,
    };
  return { kind: 'forecast-error', targets };
}

/** Classification: the output index of `label` (a class label value); default the last class. */
export function alertClassIndex(q: QuantizedModel, label: string | undefined): number {
  if (q.task !== 'classification') {
    if (label !== undefined) throw new UserError('--alert-class is for classification models');
    return 0;
  }
  const labels = classNamesOf(q);
  if (label === undefined) return q.headActivation === 'sigmoid' ? 1 : labels.length - 1;
  const i = labels.findIndex((l) => l === label.trim());
  if (i < 0) throw new UserError(`--alert-class '${label}': the model's classes are ${labels.join(', ')}`);
  return i;
}

/** The model must read real readings to be fed by a sensor. */
export function checkSensorModel(q: QuantizedModel): void {
  if (q.embedding)
    throw new UserError(
      'this model reads token ids (an embedding input); the sensor app feeds it readings: call step([tokenId]) from your own code instead',
    );
}

/**
 * The app's rules when bundle is given no options: what the tool's streamed
 * evaluation replays (pipeline/streamed-eval.ts), so the figure it reports is
 * the figure a default bundle delivers.
 */
export function defaultAppRules(q: QuantizedModel): Pick<AppConfig, 'validRanges' | 'maxBadRun' | 'warmup' | 'alertClass'> {
  return { validRanges: parseValidRanges(undefined, q), maxBadRun: q.window, warmup: q.window, alertClass: alertClassIndex(q, undefined) };
}
