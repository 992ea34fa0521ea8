#!/usr/bin/env node
// lstm-mcu command: runs the compiled JavaScript in dist/ (`npm run build`, which `npm install` runs in a clone).
//
// In a clone the sources sit beside dist/: a dist/ older than any file in the
// shipped source folders (tsconfig.build.json's `include`) would run code that
// is no longer the sources, so the command refuses in one line and names the
// newer file. An installed package has no sources and skips the check.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const main = path.join(root, 'dist', 'cli', 'main.js');
const buildConfig = path.join(root, 'tsconfig.build.json');

/** Why dist/ is not the sources (not built, or a source file changed after it was), or undefined. */
function staleness() {
  if (!fs.existsSync(main)) return 'dist/ is not built';
  const built = fs.statSync(main).mtimeMs;
  for (const folder of JSON.parse(fs.readFileSync(buildConfig, 'utf8')).include) {
    for (const entry of fs.readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })) {
      const file = path.join(entry.parentPath, entry.name);
      if (entry.isFile() && fs.statSync(file).mtimeMs > built) return `dist/ is older than ${path.relative(root, file)}`;
    }
  }
  return undefined;
}

const stale = fs.existsSync(buildConfig) ? staleness() : undefined;
if (stale) {
  process.stderr.write(`lstm-mcu: ${stale}: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(new URL('../dist/cli/main.js', import.meta.url).href);
