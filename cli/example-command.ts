/**
 * `lstm-mcu example <name>`: two classic examples end to end on real data
 * (cli/examples/): mnist (TensorFlow) and spam (Keras).
 */
import { Command } from 'commander';
import { mnistCommand } from './examples/mnist.ts';
import { spamCommand } from './examples/spam.ts';

export function exampleCommand(): Command {
  return new Command('example').description('two classic examples on real data').addCommand(mnistCommand()).addCommand(spamCommand());
}
