/**
 * `replay`: the bundled on-device app, the very upload `flash` sends, run on
 * an engine over a recording at full speed (firmware/replay-program.ts): what
 * the board would have printed, its state after every sample, every alert
 * with its time, and the advertising bytes.
 *
 * With --source function the user's reader file reads hardware the desktop
 * does not have: it is replaced by one that reads the recording
 * (REPLAY_READER); every other byte of the upload is the bundle's.
 */
import { UserError } from '../core/errors.ts';
import type { QuantizedModel } from '../core/model.ts';
import { SILENT_PROGRESS, type ProgressLine } from '../core/progress-line.ts';
import { scoreKind } from '../firmware/app-config.ts';
import { buildBundle, type BundleOptions } from '../firmware/bundle.ts';
import { ADVERTISING_FORMAT, ESPRUINO_COMPANY_ID } from '../firmware/emit-app.ts';
import {
  isRecordLine,
  parseReplayOutput,
  REPLAY_READER,
  replayProgram,
  type AppRecord,
  type ReplayOutput,
} from '../firmware/replay-program.ts';
import { EngineCapacityError, type Engine, type EngineName } from '../parity/engines.ts';
import type { Recording } from './replay-recording.ts';

/** One sample of the replay: what was read, what the app made of it. */
export interface ReplaySample {
  /** 0-based row of the recording. */
  sample: number;
  /** The recording's time of the sample (its time column), else the sample index. */
  time: number;
  /** The readings in feature order; null where the recording had none. */
  readings: (number | null)[];
  /** The model stepped on this sample (its readings were all good). */
  stepped: boolean;
  /** A bad reading: counted, not fed to the model. */
  bad: boolean;
  /** The app's real outputs after the sample (the last step's; zeros before the first). */
  outputs: number[];
  /** The score (forecast error or class probability); null before one counts. */
  score: number | null;
  alerting: boolean;
  /** An alert started at this sample. */
  alert: boolean;
  /** Manufacturer data the app advertised after this sample, hex. */
  advertising?: string;
}

export interface ReplayAlert {
  time: number;
  sample: number;
  score: number;
}

export interface ReplayResult {
  engine: EngineName;
  model: { sha256: string; features: string[]; targets: string[]; horizon: number; task: QuantizedModel['task'] };
  recording: { path: string; sha256: string; columns: string[]; timeColumn?: string; samples: number };
  app: {
    intervalMs: number;
    warmup: number;
    maxBadRun: number;
    alertAbove?: number;
    score: ReturnType<typeof scoreKind>['kind'];
    /** The bundle run (its CRC-32 and size: the upload's, unless readerReplaced). */
    bundle: { crc32: number; bytes: number; readerReplaced: boolean };
    /** verify() as the app answered it on the engine. */
    verify: string;
  };
  /** Advertising: the company id and format of the manufacturer data in each sample's `advertising`. */
  advertising?: { companyId: number; format: number };
  samples: ReplaySample[];
  alerts: ReplayAlert[];
  totals: { samples: number; steps: number; bad: number; resets: number; alerts: number };
}

/** The JSON value of a double: null for NaN (JSON has none). */
const orNull = (v: number) => (Number.isNaN(v) ? null : v);

/** The upload the engine runs: the bundle, with the reader file reading the recording where the source is a function. */
async function replayBundle(q: QuantizedModel, o: BundleOptions) {
  const readerReplaced = o.config.sources.some((s) => s.kind === 'function');
  const config = readerReplaced ? { ...o.config, reader: REPLAY_READER } : o.config;
  return { bundle: await buildBundle(q, { ...o, config }), readerReplaced };
}

export async function replayApp(
  q: QuantizedModel,
  o: BundleOptions,
  recording: Recording,
  engine: Engine,
  startProgress: () => ProgressLine = () => SILENT_PROGRESS,
): Promise<{ result: ReplayResult; log: string[] }> {
  if (o.shell !== 'espruino') throw new UserError('replay runs the espruino app (the upload flash sends)');
  const { bundle, readerReplaced } = await replayBundle(q, o);
  const n = recording.rows.length;
  const program = replayProgram(bundle.code, recording.rows, {
    appGlobal: o.appGlobal,
    watch: engine.name === 'bangle2',
    pins: o.config.sources.flatMap((s) => (s.pin !== undefined ? [s.pin] : [])),
    ...(bundle.flash ? { flashWriter: bundle.flash.writer } : {}),
  });
  let done = 0;
  const progress = startProgress();
  const lines = await engine
    .run(program, (line) => {
      if (isRecordLine(line)) done++;
      progress.update(() => `${Math.floor((100 * done) / n)}% of ${n.toLocaleString('en')} samples`);
    })
    .catch((e: unknown) => {
      // The program holds the recording: what does not fit is the recording on this engine, not the model.
      if (e instanceof EngineCapacityError)
        throw new UserError(
          `${engine.name}: out of memory replaying ${n.toLocaleString('en')} samples: replay fewer rows there, or on vm+E or espruino`,
        );
      throw e;
    })
    .finally(() => progress.done());
  const out = parseReplayOutput(lines);
  const expected = `${bundle.expected.checksum} ${bundle.expected.selfTest.join(',')}`;
  if (out.verify !== expected)
    throw new UserError(`${engine.name}: the app's verify() gave '${out.verify}', not '${expected}': the model did not load as built`);
  if (out.records.length !== n) throw new Error(`${engine.name}: ${out.records.length} records for ${n} samples`);
  const bundleInfo = { crc32: bundle.crc32, bytes: Buffer.byteLength(bundle.code), readerReplaced };
  const result = replayResult(q, o, recording, engine.name, { ...out, bundle: bundleInfo });
  return { result, log: out.log };
}

/** The result of a replay: the model, the recording, the app as run, and what it did at each sample. */
function replayResult(
  q: QuantizedModel,
  o: BundleOptions,
  recording: Recording,
  engine: EngineName,
  out: ReplayOutput & { bundle: ReplayResult['app']['bundle'] },
): ReplayResult {
  const n = recording.rows.length;
  const samples = out.records.map((r, t) => replaySample(r, t, out.records[t - 1], recording));
  const last = out.records.at(-1);
  return {
    engine,
    model: { sha256: o.modelSha256, features: q.featureNames, targets: q.targetNames, horizon: q.horizon, task: q.task },
    recording: {
      path: recording.path,
      sha256: recording.sha256,
      columns: recording.columns,
      ...(recording.time ? { timeColumn: recording.time.column } : {}),
      samples: n,
    },
    app: {
      intervalMs: o.config.intervalMs,
      warmup: o.config.warmup,
      maxBadRun: o.config.maxBadRun,
      ...(o.config.alertAbove !== undefined ? { alertAbove: o.config.alertAbove } : {}),
      score: scoreKind(q).kind,
      bundle: out.bundle,
      verify: out.verify,
    },
    ...(o.config.advertise ? { advertising: { companyId: ESPRUINO_COMPANY_ID, format: ADVERTISING_FORMAT } } : {}),
    samples,
    alerts: samples.filter((s) => s.alert).map((s) => ({ time: s.time, sample: s.sample, score: s.score! })),
    totals: {
      samples: last?.samples ?? 0,
      steps: last?.steps ?? 0,
      bad: last?.bad ?? 0,
      resets: last?.resets ?? 0,
      alerts: last?.alerts ?? 0,
    },
  };
}

/** One record as a sample of the result: what changed since the record before it says whether it stepped or alerted. */
function replaySample(r: AppRecord, t: number, before: AppRecord | undefined, recording: Recording): ReplaySample {
  return {
    sample: t,
    time: recording.time ? recording.time.values[t]! : t,
    readings: Array.from(recording.rows[t]!, orNull),
    stepped: r.steps > (before?.steps ?? 0),
    bad: r.lastBad,
    outputs: r.outputs,
    score: orNull(r.score),
    alerting: r.alerting,
    alert: r.alerts > (before?.alerts ?? 0),
    ...(r.advertising !== undefined ? { advertising: r.advertising } : {}),
  };
}
