'use strict';
// The TypeScript declarations (index.d.ts) against a program that uses every API.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// Where npm installs global packages (scripts/setup.sh puts typescript and @types/node there).
function globalNodeModules() {
  const npm = spawnSync('npm', ['root', '--global'], { encoding: 'utf8' });
  if (npm.status === 0) return npm.stdout.trim();
  return path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules');
}

test('the declarations type-check a program that uses every api', (t) => {
  const tsc = spawnSync('tsc', ['--version'], { encoding: 'utf8' });
  if (tsc.error) return t.skip('tsc is not installed (scripts/setup.sh --with-tests: npm typescript)');
  const nodeTypes = path.join(globalNodeModules(), '@types', 'node');
  if (!fs.existsSync(path.join(nodeTypes, 'package.json'))) {
    return t.skip('@types/node is not installed (scripts/setup.sh --with-tests: npm @types/node)');
  }
  // The program imports 'sluice': a node_modules beside it that points at the built package,
  // and at Node's own declarations (Buffer) for index.d.ts.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ts-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(process.env.SLUICE_NODE_PACKAGE, path.join(dir, 'node_modules', 'sluice'));
  fs.symlinkSync(nodeTypes, path.join(dir, 'node_modules', '@types', 'node'));
  fs.copyFileSync(path.join(__dirname, 'typed_usage.ts'), path.join(dir, 'typed_usage.ts'));
  const run = spawnSync('tsc', ['--strict', '--noEmit', '--target', 'es2020', '--module', 'commonjs',
    '--moduleResolution', 'node', '--types', 'node', path.join(dir, 'typed_usage.ts')],
  { encoding: 'utf8', cwd: dir });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
