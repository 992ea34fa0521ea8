/**
 * Neither Keras nor ONNX has a depth-gated LSTM: a layer or operator that
 * names one (lstm-mcu's own TensorFlow.js layer, LstmMcuDepthGatedLSTMCellRNN,
 * or a custom operator) is refused in one line that says where the cell comes from.
 */

/** Why a layer class or operator named `name` is not imported, or undefined when it is not a depth-gated one. */
export function depthGatedImportRefusal(name: string): string | undefined {
  if (!/depth.?gated/i.test(name)) return undefined;
  return 'a depth-gated LSTM has no Keras or ONNX form to import (each layer reads the cell state of the one below); train it with --cell depth-gated';
}
