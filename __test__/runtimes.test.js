'use strict'
// The runtime smoke suite: __test__/runtimes/smoke.mjs (connect, version, pull with progress, a
// task with streamed stdio and stdin, exec, events, run, typed errors, abort) under the system's
// Node and under Node 22, Node 24, Deno 2 and Bun 1 from scripts/runtimes.js's cache (installed
// there if missing). The five run at once; each is a few seconds.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const runtimes = require('../scripts/runtimes.js')

const smoke = path.join(__dirname, 'runtimes', 'smoke.mjs')

function runSmoke(name, bin, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, SMOKE_RUNTIME: name, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 90000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => { stdout += c })
    child.stderr.on('data', (c) => { stderr += c })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

const STEPS = ['connect', 'version', 'short calls: on the JS thread under Node only (Deno and Bun do not run libuv)', 'events', 'pull with progress', 'task: streamed stdout/stderr and stdin', 'exec', 'run', 'events seen', 'typed errors', 'abort', 'cleanup']

// Started together at load time; each test awaits its own.
const runs = {
  [`node${process.versions.node.split('.')[0]} (system)`]: runSmoke('system', process.execPath, [smoke]),
}
for (const [name, r] of Object.entries(runtimes.RUNTIMES)) {
  runs[name] = runtimes.ensure(name).then((bin) => runSmoke(name, bin, r.args(smoke)))
}
for (const p of Object.values(runs)) p.catch(() => {}) // awaited below

for (const [name, run] of Object.entries(runs)) {
  test(`smoke under ${name}`, { timeout: 600000 }, async () => {
    const { code, signal, stdout, stderr } = await run
    const steps = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    const failed = steps.find((s) => !s.ok)
    assert.equal(failed, undefined, `${name}: step ${failed?.step} failed: ${failed?.error}`)
    assert.deepEqual(steps.map((s) => s.step), STEPS, `${name}: ${stdout}\n${stderr}`)
    assert.deepEqual([code, signal], [0, null], `${name}: ${stderr}`)
  })
}
