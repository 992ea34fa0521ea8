/**
 * The program `lstm-mcu record` runs in a board's RAM (firmware/es5/record.js
 * around the app's own source readers): it samples on a timer and prints one
 * line per sample, which firmware/record-lines.ts reads back.
 */
import { CodeBuilder } from '../codegen/builder.ts';
import type { Source } from './app-config.ts';
import { appLines } from './app-source.ts';
import { asciiOnly } from './bundle.ts';
import { emitRead, emitReaderFile, sensorPowerLines } from './emit-app.ts';
import { processUpload } from './espruino-tools.ts';

/** The start of a sample line; ERROR_PREFIX starts a failed sample's line, END_PREFIX the line stop() prints. */
export const SAMPLE_PREFIX = 'lstm-rec';
export const ERROR_PREFIX = 'lstm-rec-error';
export const END_PREFIX = 'lstm-rec-end';
/** The global the program defines (start(), stop(), state()), as firmware/es5/record.js names it. */
export const RECORD_GLOBAL = 'lstmRecord';
/** The Bangle.js sensor client the program powers (the compass, for mag). */
const SENSOR_CLIENT = 'lstm-mcu record';

export interface RecordProgramOptions {
  sources: readonly Source[];
  /** The --reader file, for a 'function' source. */
  reader?: string;
  intervalMs: number;
  /** Over Bluetooth: the board stops sampling when the link drops (no one is left to read its lines). */
  stopOnDisconnect: boolean;
}

/** Readings per sample. */
export const channelsOf = (sources: readonly Source[]): number => sources.reduce((sum, s) => sum + s.channels, 0);

/** The program's ES5 source, as written (tests run it as it stands). */
export function recordSource(o: RecordProgramOptions): string {
  const channels = channelsOf(o.sources);
  const disconnect = o.stopOnDisconnect;
  const lines = appLines('record', {
    lines: {
      READ: CodeBuilder.linesOf((b) => {
        emitReaderFile(b, o);
        emitRead(b, o.sources, `read(): the ${channels} reading${channels === 1 ? '' : 's'} of a sample into R, in column order`);
      }),
      SENSORS_ON: sensorPowerLines(o.sources, true, SENSOR_CLIENT),
      SENSORS_OFF: sensorPowerLines(o.sources, false, SENSOR_CLIENT),
      STOP_ON_DISCONNECT: disconnect
        ? ['if (typeof NRF !== "undefined") NRF.on("disconnect", stop); // no one is left to read the lines']
        : [],
      KEEP_ON_DISCONNECT: disconnect ? ['if (typeof NRF !== "undefined") NRF.removeListener("disconnect", stop);'] : [],
    },
    words: {
      PREFIX: SAMPLE_PREFIX,
      ERROR_PREFIX,
      END_PREFIX,
      CHANNELS: String(channels),
      INTERVAL_MS: String(o.intervalMs),
    },
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The program as uploaded: processed by espruino-tools as bundle's app is (the
 * reader's modules, minification; the connected board's built-in modules are
 * known), in ASCII.
 */
export async function recordUpload(o: RecordProgramOptions): Promise<string> {
  return asciiOnly(await processUpload(recordSource(o), { modules: {}, minify: true, builtinModules: [] }));
}
