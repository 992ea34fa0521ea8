/**
 * The constant ES5 of the on-device app, kept as real JavaScript files in
 * firmware/es5/ (parsed and run by test/firmware/app-source.test.ts) with
 * placeholders the app emitter fills (codegen/es5-source.ts says how).
 */
import { es5File, fillEs5, type Es5Fill } from '../codegen/es5-source.ts';

/**
 * - lifecycle: clear(), reset(), the self-test and verify();
 * - feed: feed(x), the app's rules for one sample (firmware/app-replay.ts is the same on the host);
 * - jerryscript-shell: the API the JerryScript host calls;
 * - espruino-stop: stop() and the API of the Espruino shell;
 * - fixed: fixed(v, d), the app's numbers as text, the same on every engine (core/format.ts fixedDigits is its twin).
 * - record: the program `lstm-mcu record` runs on a board (firmware/record-program.ts).
 */
export type AppSource = 'lifecycle' | 'feed' | 'jerryscript-shell' | 'espruino-stop' | 'fixed' | 'record';

export const appSource = (name: AppSource): string => es5File(new URL(`./es5/${name}.js`, import.meta.url));

export const appLines = (name: AppSource, fill: Es5Fill = {}): string[] => fillEs5(appSource(name), fill);
