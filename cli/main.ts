/**
 * lstm-mcu: train -> quantize -> codegen -> simulate, and `demo` for all of it.
 */
import { Command } from 'commander';
import { TOOL_VERSION } from '../core/version.ts';
import { endQuietlyOnEpipe } from './quiet-epipe.ts';
import { trainCommand } from './train-command.ts';
import { quantizeCommand } from './quantize-command.ts';
import { codegenCommand } from './codegen-command.ts';
import { simulateCommand } from './simulate-command.ts';
import { demoCommand } from './demo-command.ts';
import { handmadeCommand } from './handmade-command.ts';
import { exampleCommand } from './example-command.ts';
import { bundleCommand } from './bundle-command.ts';
import { flashCommand } from './flash-command.ts';
import { recordCommand } from './record-command.ts';
import { importCommand } from './import-command.ts';
import { replayCommand } from './replay-command.ts';

endQuietlyOnEpipe();

const program = new Command('lstm-mcu')
  .description(
    'Recurrent networks for JavaScript microcontrollers: train on a time series, quantize to int8, generate bit-exact ES5 for Espruino and JerryScript.',
  )
  .version(TOOL_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .addCommand(demoCommand())
  .addCommand(trainCommand())
  .addCommand(quantizeCommand())
  .addCommand(codegenCommand())
  .addCommand(simulateCommand())
  .addCommand(handmadeCommand())
  .addCommand(exampleCommand())
  .addCommand(importCommand())
  .addCommand(bundleCommand())
  .addCommand(flashCommand())
  .addCommand(replayCommand())
  .addCommand(recordCommand());

await program.parseAsync(process.argv);
