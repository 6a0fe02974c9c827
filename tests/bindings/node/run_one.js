'use strict';
// Runs one test of a node:test file (ctest gives each test its own entry) and maps a test
// that skipped itself to exit 77, ctest's SKIP_RETURN_CODE, so it is reported as skipped.
//   node run_one.js <file> <test name>
// Only the named test's own result line counts: the runner reports every test the pattern
// filtered out as skipped too, so a name that matched nothing would otherwise pass as a skip.
const { spawnSync } = require('node:child_process');

const [file, name] = process.argv.slice(2);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const run = spawnSync(process.execPath,
  ['--test', '--test-reporter=tap', `--test-name-pattern=^${escape(name)}$`, file],
  { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
process.stdout.write(run.stdout);
if (run.status !== 0) process.exit(run.status ?? 1);
const own = run.stdout.match(new RegExp(`^\\s*ok \\d+ - ${escape(name)}( # SKIP.*)?$`, 'm'));
if (!own) {
  console.error(`no test named '${name}' ran in ${file}`);
  process.exit(1);
}
if (own[1]) process.exit(77);
