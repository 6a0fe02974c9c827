'use strict';
// The README's Node.js quick start runs as written, on a bus of its own (the only change: its
// bus by name becomes a fresh directory, so the test never touches /dev/shm/sluice/demo).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { sluice, busDir } = require('./support');

function quickStart(language) {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = text.split('## Python and Node.js agents')[1].split('\n## ')[0];
  return section.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'))[1];
}

test('the readme quick start prints the task and replies', (t) => {
  const dir = busDir(t);
  let code = quickStart('js');
  assert.ok(code.includes("new Bus('demo')"));
  code = code.replace("new Bus('demo')", `new Bus({ dir: ${JSON.stringify(dir)} })`);
  // require('sluice') as an installed package: NODE_PATH names the folder holding it.
  const run = spawnSync(process.execPath, ['-e', code], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, NODE_PATH: path.dirname(process.env.SLUICE_NODE_PACKAGE) },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'planner task {"n":1}\n');
  const [reply] = new sluice.Bus({ dir }).peek('planner');
  assert.deepEqual([reply.from, reply.type, reply.payload.toString()], ['worker', 'result', '{"n":1}']);
});
