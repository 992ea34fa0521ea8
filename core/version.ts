import fs from 'node:fs';

/**
 * The package's package.json: one folder up from the sources (core/), two from
 * the compiled JavaScript (dist/core/).
 */
function packageJsonUrl(): URL {
  const beside = new URL('../package.json', import.meta.url);
  return fs.existsSync(beside) ? beside : new URL('../../package.json', import.meta.url);
}

/** The package version, read once from package.json. */
export const TOOL_VERSION: string = JSON.parse(fs.readFileSync(packageJsonUrl(), 'utf8')).version;
