/**
 * The global a generated module defines when run as a plain script: an ES5
 * identifier that is not a reserved word and does not shadow a global the
 * module, the app or a board reads (the module's functions would then read
 * the model where they expect Math, say).
 */

const ES5_RESERVED = [
  'break',
  'case',
  'catch',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'finally',
  'for',
  'function',
  'if',
  'in',
  'instanceof',
  'new',
  'return',
  'switch',
  'this',
  'throw',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'class',
  'const',
  'enum',
  'export',
  'extends',
  'import',
  'super',
  'implements',
  'interface',
  'let',
  'package',
  'private',
  'protected',
  'public',
  'static',
  'yield',
  'null',
  'true',
  'false',
  'undefined',
  'NaN',
  'Infinity',
  'eval',
  'arguments',
];

/** Globals the generated module and app read, and the boards' own objects. */
const GLOBALS_READ = [
  'Math',
  'JSON',
  'Object',
  'Array',
  'String',
  'Number',
  'Error',
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'E',
  'require',
  'exports',
  'module',
  'print',
  'console',
  'atob',
  'setInterval',
  'clearInterval',
  'setWatch',
  'clearWatch',
  'digitalPulse',
  'analogRead',
  'Bangle',
  'Puck',
  'NRF',
  'g',
  'LED1',
  'BTN',
  'globalThis',
  'global',
  'process',
];

const FORBIDDEN = new Set([...ES5_RESERVED, ...GLOBALS_READ]);

/** Why `name` cannot be the module's global, or undefined when it can. */
export function globalNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name))
    return 'is not a JavaScript identifier (letters, digits, _ and $, not starting with a digit)';
  if (FORBIDDEN.has(name)) return `is a reserved word or a global the module or the board reads; choose another name`;
  return undefined;
}
