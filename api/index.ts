/**
 * The programmatic API (`import { train, quantize, ... } from 'lstm-mcu'`),
 * documented in docs/API.md: one function per stage, each the very function
 * its command runs (the pipeline's steps, here under the stage's name), with
 * the artifact I/O and the helpers a script needs between stages.
 *
 * Nothing here loads TensorFlow.js until a model trains (trainer/backend.ts).
 */

// train: a CSV time series -> a float model, its windows, the backend it ran on.
export { trainStep as train, trainOnDataset, loadDataset, datasetOfModel } from '../pipeline/train.ts';
export type { TrainStepOptions as TrainOptions, DataOptions, ModelOptions, EpochSummary } from '../pipeline/train.ts';
export { initBackend, type BackendPref } from '../trainer/backend.ts';

// quantize: float -> int8, calibrated on the training windows, with the float vs int8 report.
export { quantizeStep as quantize, inputSegments } from '../pipeline/quantize.ts';
export type { QuantizeStepOptions as QuantizeOptions, QuantizeReport } from '../pipeline/quantize.ts';
export { qatStep as quantizationAwareTraining, QAT_DEFAULTS } from '../pipeline/qat.ts';
export type { QatStepOptions, QatSummary } from '../pipeline/qat.ts';
export { DEFAULT_INPUT_PERCENTILE, DEFAULT_WEIGHT_SCALE, type WeightScaleGranularity } from '../quantize/quantize.ts';

// generate (the `codegen` command): int8 model -> ES5 source and .d.ts per target.
export { codegenStep as generate, type GeneratedFile, type WeightPlace } from '../pipeline/codegen.ts';
export { TARGETS, type Target } from '../codegen/emit-module.ts';

// simulate: the generated code against the integer simulator, step by step, on every available engine.
export { simulateStep as simulate, type SimulateOptions, type SimulateResult } from '../pipeline/simulate.ts';
export type { GeneratedSource, ParityResult } from '../parity/parity.ts';
export { ENGINE_NAMES, type EngineName } from '../parity/engines.ts';

// import: a model trained elsewhere (ONNX, TensorFlow.js / Keras layers) -> a float model.
export {
  importStep as importModel,
  type ImportStepOptions as ImportOptions,
  type ImportStepResult as ImportResult,
} from '../pipeline/import.ts';

// bundle: int8 model + on-device app -> one upload-ready file.
export { buildBundle as bundle, MODEL_GLOBAL, type Bundle, type BundleOptions } from '../firmware/bundle.ts';
export { alertClassIndex, defaultAppRules, parseSourceList, parseSources, parseValidRanges } from '../firmware/app-config.ts';
export type { AppConfig, Source, SourceKind, ValidRange } from '../firmware/app-config.ts';
export type { Shell } from '../firmware/emit-app.ts';

// replay: the bundled app (the upload flash sends) over a recording, on an engine (parity/engines.ts).
export { replayApp as replay, type ReplayResult, type ReplaySample, type ReplayAlert } from '../pipeline/replay.ts';
export { readRecording, type Recording, type RecordingOptions } from '../pipeline/replay-recording.ts';
export { replayChartData, type ReplayChartData } from '../pipeline/replay-chart.ts';
export { availableEngines, engineByName, type Engine } from '../parity/engines.ts';

// record: a board's readings, sample by sample, through espruino-tools (each row handed to `row`; the command writes the CSV).
export { recordFromBoard as record, type RecordOptions, type RecordResult, type RecordCounts } from '../firmware/record.ts';
export type { RecordProgramOptions } from '../firmware/record-program.ts';

// Models on disk (the .pb artifacts the commands read and write), and the types they hold.
export {
  decodeArtifact,
  encodeFloatModel,
  encodeQuantizedModel,
  readFloatModel,
  readQuantizedModel,
  sha256Hex,
  writeArtifact,
} from '../core/artifact.ts';
export type { FloatModel, QuantizedModel, CellKind, Deployment } from '../core/model.ts';
export type { Dataset } from '../data/windows.ts';

// A mistake in the input (one line, names what and where), as the command prints it.
export { UserError } from '../core/errors.ts';
export { TOOL_VERSION } from '../core/version.ts';
