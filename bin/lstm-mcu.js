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

const root = fileURLToPath(new URL('..', import.meta.url));
const main = path.join(root, 'dist', 'cli', 'main.js');
const buildConfig = path.join(root, 'tsconfig.build.json');

/** A source file changed after dist/ was built, or undefined. */
function newerSource() {
  const built = fs.statSync(main).mtimeMs;
  for (const folder of JSON.parse(fs.readFileSync(buildConfig, 'utf8')).include) {
    for (const entry of fs.readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })) {
      const file = path.join(entry.parentPath, entry.name);
      if (entry.isFile() && fs.statSync(file).mtimeMs > built) return path.relative(root, file);
    }
  }
  return undefined;
}

if (fs.existsSync(buildConfig)) {
  const newer = fs.existsSync(main) ? newerSource() : 'none';
  const stale = newer === 'none' ? 'dist/ is not built' : newer && `dist/ is older than ${newer}`;
  if (stale) {
    process.stderr.write(`lstm-mcu: ${stale}: run \`npm run build\` in ${root}\n`);
    process.exit(1);
  }
}
await import(new URL('../dist/cli/main.js', import.meta.url).href);
