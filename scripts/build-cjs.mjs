// The CommonJS copy of the package, for `require('monocoque')`: dist/cjs/ mirrors dist/ (src/, machines/),
// one .js file per module, beside a package.json that says {"type": "commonjs"}. Run after
// `tsc -p tsconfig.build.json` (npm run build does both): it reuses the declarations tsc wrote there.
//
//   src/**/*.ts, machines/**/*.ts ──ts.transpileModule (module CommonJS)──▶ dist/cjs/**/*.js (+ .js.map)
//   dist/{src,machines}/**/*.d.ts  ──copied (maps re-pointed)───────────▶ dist/cjs/**/*.d.ts (+ .d.ts.map)
//
// The same compiler and options as the ES build, the module format aside, so both copies behave alike
// (class fields, target). The sources are `isolatedModules`, so a file compiles on its own.
// `import('libsodium-wrappers')` becomes `Promise.resolve().then(() => require(...))`: CURVE still loads
// libsodium on first use, its CommonJS build. Under dist/cjs the copied .d.ts files are CommonJS
// declarations, which is what TypeScript (module node16) wants for a `require` of the package.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'cjs');

const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  },
});
if (parsed === undefined) throw new Error('tsconfig.build.json does not parse');

const options = {
  ...parsed.options,
  module: ts.ModuleKind.CommonJS,
  // verbatimModuleSyntax forbids ESM syntax in a CommonJS output; the sources are checked with it on.
  verbatimModuleSyntax: false,
  declaration: false,
  declarationMap: false,
  sourceMap: true,
  inlineSources: false,
  noEmit: false,
};
delete options.moduleResolution;

/** `sources` of a map written for `fromDir`, made relative to `toDir` (the same files on disk). */
function repoint(mapText, fromDir, toDir) {
  const map = JSON.parse(mapText);
  map.sources = map.sources.map((s) => relative(toDir, resolve(fromDir, map.sourceRoot ?? '', s)).split('\\').join('/'));
  delete map.sourceRoot;
  return JSON.stringify(map);
}

function filesUnder(dir, suffix) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name));
}

rmSync(OUT, { recursive: true, force: true });
const rootDir = options.rootDir ?? ROOT;
let count = 0;
for (const file of parsed.fileNames) {
  if (file.endsWith('.d.ts')) continue;
  const rel = relative(rootDir, file);
  const js = join(OUT, rel.replace(/\.ts$/, '.js'));
  const result = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file, reportDiagnostics: true });
  const errors = (result.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    throw new Error(`${rel}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  }
  mkdirSync(dirname(js), { recursive: true });
  writeFileSync(js, result.outputText);
  // transpileModule names the source as it was given; name it relative to the map, as tsc does.
  const map = JSON.parse(result.sourceMapText);
  map.sources = [relative(dirname(js), file).split('\\').join('/')];
  delete map.sourceRoot;
  writeFileSync(`${js}.map`, JSON.stringify(map));
  count += 1;
}

let declarations = 0;
for (const top of ['src', 'machines']) {
  for (const file of [...filesUnder(join(DIST, top), '.d.ts'), ...filesUnder(join(DIST, top), '.d.ts.map')]) {
    const to = join(OUT, relative(DIST, file));
    mkdirSync(dirname(to), { recursive: true });
    if (file.endsWith('.map')) writeFileSync(to, repoint(readFileSync(file, 'utf8'), dirname(file), dirname(to)));
    else copyFileSync(file, to);
    if (file.endsWith('.d.ts')) declarations += 1;
  }
}

writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
console.error(`dist/cjs: ${count} CommonJS modules, ${declarations} declaration files`);
