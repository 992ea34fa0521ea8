import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { intOption, printJson, runAction } from './common.ts';
import { APP_GLOBAL, addAppOptions, appInputs, bundleFrom } from './app-options.ts';
import { flashBundle, type FlashResult } from '../firmware/flash.ts';
import { portKind } from '../firmware/espruino-tools.ts';
import { UserError } from '../core/errors.ts';

/** What `flash` reads from its command line besides the app options (appInputs reads those). */
interface FlashCommandOptions {
  port: string;
  timeout: number;
  listen: number;
  json?: boolean;
}

export function flashCommand(): Command {
  const cmd = new Command('flash').description(
    'bundle the model and app, upload it to an Espruino board with espruino-tools, save it to flash, and verify the weights checksum and a known step on the board',
  );
  addAppOptions(cmd, ['espruino']);
  cmd
    .requiredOption('--port <port>', 'serial port (/dev/ttyACM0), Bluetooth address (aa:bb:cc:dd:ee:ff) or tcp://host:port')
    .addOption(
      new Option('--timeout <seconds>', 'time limit of each step (connect, write, check)').argParser(intOption(1, 3600)).default(20),
    )
    .addOption(
      new Option('--listen <seconds>', 'after verifying, print what the app prints for this long').argParser(intOption(0, 3600)).default(0),
    )
    .option('--json', 'print a one-line JSON summary as the last line of stdout')
    .action(async (o: FlashCommandOptions & Record<string, unknown>) => {
      await runAction('flash', () => runFlash(o));
      // espruino-tools keeps timers and sockets of a failed connection alive: end here, output written.
      process.exit(process.exitCode ?? 0);
    });
  return cmd;
}

async function runFlash(o: FlashCommandOptions & Record<string, unknown>): Promise<void> {
  portKind(o.port);
  // The app has its weights' name compiled in: a name per model lets the new weights stand beside the old app's until it is saved.
  if (o.flashFile !== undefined)
    throw new UserError(
      '--flash-file is for bundle: flash names the weights file after its content (lstm-w-<CRC-32>.bin), so the app on the board keeps its own weights until the new one is saved',
    );
  const inputs = appInputs(o);
  const bundle = await bundleFrom(inputs);
  const progress = flashProgress();
  let r: FlashResult;
  try {
    r = await flashBundle(bundle, {
      port: o.port,
      appGlobal: APP_GLOBAL,
      timeoutMs: o.timeout * 1000,
      listenMs: o.listen * 1000,
      log: progress.log,
      progress: progress.chunksWritten,
    });
  } finally {
    progress.end();
  }
  const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  console.log(
    `verified on ${r.board} at ${o.port}: model data CRC-32 ${hex(r.checksum)} (host ${hex(bundle.expected.checksum)}), self-test output [${r.selfTest.join(', ')}] (simulator [${bundle.expected.selfTest.join(', ')}])`,
  );
  if (o.listen > 0) for (const line of appLines(r.printed)) console.log(`board: ${line}`);
  if (o.json)
    printJson({
      command: 'flash',
      port: o.port,
      board: r.board,
      verified: true,
      checksum: r.checksum,
      selfTest: r.selfTest,
      bytes: r.bundleBytes,
    });
}

/**
 * Progress on stderr: a bar per Storage file on a terminal, the step lines otherwise.
 * `log` a step line, `chunksWritten` a Storage file's chunks written so far, `end` the bar shown.
 */
function flashProgress() {
  let bar: cliProgress.SingleBar | undefined;
  const end = () => {
    bar?.stop();
    bar = undefined;
  };
  const log = (line: string) => {
    end();
    process.stderr.write(`${line}\n`);
  };
  const chunksWritten = (name: string, done: number, total: number) => {
    if (!process.stderr.isTTY) return;
    if (!bar) {
      bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: `  ${name} {bar} {value}/{total} chunks`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    }
    bar.update(done);
    if (done === total) end();
  };
  return { log, chunksWritten, end };
}

/** The app's own lines among what the board printed (its prompt and terminal escapes taken off). */
function appLines(printed: string): string[] {
  return printed
    .split(/\r?\n/)
    .map((l) =>
      l
        .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
        .replace(/^>/, '')
        .trim(),
    )
    .filter((l) => l.startsWith('lstm-mcu'));
}
