/**
 * A flash cut off at a chosen phase, in a process of its own (as the CLI:
 * espruino-tools keeps queued writes and timers of a dropped connection,
 * which must not reach the next board the test talks to).
 *
 * Run: node --import tsx flash-cut.ts '{"model","reader","port","cutAt","pid"}'
 * Builds the app of `model` with its weights in flash (as `lstm-mcu flash
 * --weights flash --source function --reader <reader> --interval 100`),
 * flashes it, and kills process `pid` (the board) with SIGKILL the moment
 * flash logs a line matching `cutAt`: before it sends the step that follows.
 * Prints one JSON line: { lines, error }.
 */
import { appInputs, bundleFrom } from '../../cli/app-options.ts';
import { flashBundle } from '../../firmware/flash.ts';

const o = JSON.parse(process.argv[2]!) as { model: string; reader: string; port: string; cutAt: string; pid: number };
const cutAt = new RegExp(o.cutAt);
const lines: string[] = [];
let error: string | undefined;
try {
  const bundle = await bundleFrom(appInputs({ model: o.model, source: 'function', reader: o.reader, interval: 100, weights: 'flash' }));
  await flashBundle(bundle, {
    port: o.port,
    appGlobal: 'lstmApp',
    timeoutMs: 20_000,
    listenMs: 0,
    log: (line) => {
      lines.push(line);
      if (cutAt.test(line)) process.kill(o.pid, 'SIGKILL');
    },
  });
} catch (e) {
  error = (e as Error).message;
}
process.stdout.write(`${JSON.stringify({ lines, error })}\n`);
process.exit(0);
