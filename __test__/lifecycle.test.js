'use strict'
// How native calls meet Node's event loop: a pending call keeps the process alive and an idle
// client does not; calls from worker threads work, and terminating a worker mid-call harms
// neither the process nor other threads. Each scenario runs in a fresh `node` process, so a
// crash, a hang or an early exit shows up as its exit status, output or timeout.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')
const { sandbox } = require('./helpers.js')

const sb = sandbox()
const ROOT = path.resolve(__dirname, '..')

/** Runs `source` in a fresh node; resolves with { code, signal, stdout, stderr, ms }. */
function node(source, timeout = 20000) {
  return new Promise((resolve) => {
    const t0 = performance.now()
    execFile(process.execPath, ['-e', source], { cwd: ROOT, timeout, env: { ...process.env, SOCK: sb.address } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, signal: err?.signal, stdout, stderr, ms: performance.now() - t0 }))
  })
}

test('a pending call keeps the process alive until it settles; then it exits on its own', async () => {
  // Nothing else holds the loop open: without a ref for the pending calls the process would
  // exit before either reply arrived.
  const r = await node(`
    const { Client } = require('.')
    Client.connect({ address: process.env.SOCK }).then(async (c) => {
      const [v, missing] = await Promise.allSettled([c.version(), c.getImage('no-such-image:latest')])
      console.log(JSON.stringify({ version: v.value.version, missing: missing.reason.name }))
    })`)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.signal ?? null, null)
  const out = JSON.parse(r.stdout)
  assert.match(out.version, /^\d+\.\d+/)
  assert.equal(out.missing, 'NotFoundError')
})

test('an idle connected client does not keep the process alive', async () => {
  const r = await node(`
    const { Client } = require('.')
    Client.connect({ address: process.env.SOCK }).then(async (c) => { await c.version(); console.log('idle') })`)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'idle')
  assert.ok(r.ms < 10000, `took ${r.ms} ms to exit`)
})

test('worker threads: concurrent calls in two workers, one terminated mid-call, the process unharmed', async () => {
  const r = await node(`
    const { Worker } = require('node:worker_threads')
    const { Client } = require('.')
    const body = \`
      const { parentPort, workerData } = require('node:worker_threads')
      const { Client } = require(workerData.root)
      Client.connect({ address: workerData.sock }).then(async (c) => {
        if (workerData.abandon) {
          for (let i = 0; i < 500; i++) c.version().catch(() => {})
          parentPort.postMessage('started')
          return
        }
        const all = await Promise.all(Array.from({ length: 200 }, () => c.version()))
        parentPort.postMessage(all.length)
      })\`
    const start = (abandon) => new Worker(body, { eval: true, workerData: { root: process.cwd(), sock: process.env.SOCK, abandon } })
    ;(async () => {
      const doomed = start(true)
      await new Promise((res) => doomed.once('message', res))
      await doomed.terminate()
      const worker = start(false)
      const n = await new Promise((res, rej) => { worker.once('message', res); worker.once('error', rej) })
      await worker.terminate()
      const c = await Client.connect({ address: process.env.SOCK })
      const mine = await Promise.all(Array.from({ length: 200 }, () => c.version()))
      console.log(JSON.stringify({ worker: n, main: mine.length }))
    })()`)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { worker: 200, main: 200 })
})
