/**
 * `lstm-mcu example <name>`: the seeds' examples end to end on real data
 * (cli/examples/): mnist (seed 003, TensorFlow) and spam (seed 003, Keras).
 */
import { Command } from 'commander';
import { mnistCommand } from './examples/mnist.ts';
import { spamCommand } from './examples/spam.ts';

export function exampleCommand(): Command {
  return new Command('example').description("the seeds' examples on real data").addCommand(mnistCommand()).addCommand(spamCommand());
}
