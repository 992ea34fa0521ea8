/**
 * npm run build (and `prepare`, so `npm install` in a clone runs it): the
 * shipped source folders (tsconfig.build.json's `include`) compiled into dist/
 * as JavaScript and .d.ts, beside the files the code reads at run time through
 * import.meta.url (the ES5 it emits, .proto schemas, the WebAssembly and
 * native kernels, the watch runner), copied at the same relative paths.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const config = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };

/** Files tsc does not emit that the code reads at run time: every file but the TypeScript and the prose. */
const isAsset = (file: string): boolean => !file.endsWith('.ts') && !file.endsWith('.md');

function copyAssets(folder: string): number {
  const files = fs
    .readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && isAsset(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dist, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(dist, file));
  }
  return files.length;
}

/**
 * The .d.ts keep the sources' `.ts` import paths (tsc rewrites them in the
 * JavaScript only); a user's TypeScript resolves `.js`, as in the JavaScript.
 */
function rewriteDeclarationImports(): void {
  for (const name of fs.readdirSync(dist, { recursive: true }).map(String)) {
    if (!name.endsWith('.d.ts')) continue;
    const file = path.join(dist, name);
    const text = fs.readFileSync(file, 'utf8');
    const rewritten = text.replace(/(from\s+'|import\(')(\.{1,2}\/[^']+)\.ts'/g, "$1$2.js'");
    if (rewritten !== text) fs.writeFileSync(file, rewritten);
  }
}

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
rewriteDeclarationImports();
const assets = config.include.reduce((n, folder) => n + copyAssets(folder), 0);
console.log(`built dist/: ${config.include.join(', ')} (${assets} files copied beside the JavaScript)`);
