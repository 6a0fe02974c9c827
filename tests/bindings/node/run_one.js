'use strict';
// Runs one test of a node:test file (ctest gives each test its own entry) and maps a test
// that skipped itself to exit 77, ctest's SKIP_RETURN_CODE, so it is reported as skipped.
//   node run_one.js <file> <test name>
const { spawnSync } = require('node:child_process');

const [file, name] = process.argv.slice(2);
const pattern = '^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
const run = spawnSync(process.execPath,
  ['--test', '--test-reporter=tap', `--test-name-pattern=${pattern}`, file],
  { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
process.stdout.write(run.stdout);
const count = (key) => Number((run.stdout.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) || [])[1] || 0);
if (run.status !== 0) process.exit(run.status ?? 1);
if (count('pass') === 0 && count('skip(?:ped)?') > 0) process.exit(77);
if (count('pass') === 0) {
  console.error(`no test named '${name}' ran in ${file}`);
  process.exit(1);
}
