'use strict'
// Short calls on Node run on the calling JS thread over a connection of its own, its socket
// watched by libuv (src/js/thread_io.rs). These tests put a proxy of their own between that
// connection and containerd, so they can see it open and close, hold its traffic back and cut it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const { Client, DeadlineExceededError, UnavailableError } = require('..')
const { binding } = require('../lib/native.js')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const THREAD_CALLS = Symbol.for('containerd-napi.threadCallCount')
const CALLS = Symbol.for('containerd-napi.callCount')
const REPO = path.join(__dirname, '..')

/**
 * A unix socket in a fresh 0700 directory (root's: nobody else may reach containerd through it)
 * forwarding to the sandbox's containerd; `hold()` stops passing the clients' bytes on.
 */
async function proxy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnapi-thread-io-'))
  const address = path.join(dir, 'proxy.sock')
  const pairs = new Set()
  let held = false
  let opened = 0
  const server = net.createServer((client) => {
    opened++
    const daemon = net.connect(sb.address)
    const pair = { client, daemon }
    pairs.add(pair)
    client.on('data', (chunk) => { if (!held) daemon.write(chunk) })
    daemon.pipe(client)
    const end = () => { pairs.delete(pair); client.destroy(); daemon.destroy() }
    client.on('close', end).on('error', end)
    daemon.on('close', end).on('error', end)
  })
  await new Promise((resolve) => server.listen(address, resolve))
  return {
    address,
    get open() { return pairs.size },
    get opened() { return opened },
    hold() { held = true },
    release() { held = false },
    cut() { for (const { client, daemon } of pairs) { client.destroy(); daemon.destroy() } },
    async close() {
      this.cut()
      await new Promise((resolve) => server.close(resolve))
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function until(check, what, ms = 5000) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

test('short calls run on the calling JS thread, with the same results as over the workers', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('thread-io') })
  await c.pull(sb.images.busybox)
  const container = await c.createContainer(uniqueName('c'), { image: sb.images.busybox, args: ['true'] })
  const read = async () => ({
    version: await c.version(),
    images: (await c.listImages()).map((i) => [i.name, i.target.digest]),
    image: (await c.getImage(sb.images.busybox)).target.digest,
    containers: (await c.listContainers()).map((x) => x.id),
    container: (await c.getContainer(container.id)).id,
    tasks: await c.listTasks(),
  })
  const calls = c[CALLS]
  const before = c[THREAD_CALLS]
  const onThread = await read()
  assert.equal(c[THREAD_CALLS] - before, c[CALLS] - calls, 'every one of these calls took the JS thread path')
  assert.ok(c[THREAD_CALLS] - before >= 6)

  binding.setThreadTransport(false)
  try {
    const off = c[THREAD_CALLS]
    const onWorkers = await read()
    assert.equal(c[THREAD_CALLS], off, 'switched off: no call took the JS thread path')
    assert.deepEqual(onWorkers, onThread)
  } finally {
    binding.setThreadTransport(true)
  }
  // Long operations keep to the workers.
  const long = c[THREAD_CALLS]
  await c.run(sb.images.busybox, ['true'])
  assert.equal(c[THREAD_CALLS] - long, 0)
  await container.delete()
  await c.close()
})

test('many calls in flight at once on the JS thread all settle', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('thread-io') })
  const before = c[THREAD_CALLS]
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 3 ? c.version() : c.listContainers())))
  assert.equal(results.length, 300)
  assert.equal(c[THREAD_CALLS] - before, 300)
  assert.ok(results.filter((r) => !Array.isArray(r)).every((v) => /^\d+\./.test(v.version)))
  await c.close()
})

test('a deadline or an abort ends a call the daemon does not answer; the connection then works on', async () => {
  const p = await proxy()
  try {
    const c = await Client.connect({ address: p.address, timeoutMs: 300 })
    await c.version()
    p.hold()
    const started = Date.now()
    await rejectsWith(c.version(), DeadlineExceededError)
    assert.ok(Date.now() - started < 5000)
    const controller = new AbortController()
    const aborted = c.version({ signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await assert.rejects(aborted, { name: 'AbortError' })
    p.release()
    const before = c[THREAD_CALLS]
    assert.match((await c.version()).version, /^\d+\./)
    assert.equal(c[THREAD_CALLS] - before, 1)
    await c.close()
  } finally {
    await p.close()
  }
})

test('a cut connection: the call in flight fails UnavailableError, the next call dials again', async () => {
  const p = await proxy()
  try {
    const c = await Client.connect({ address: p.address })
    await c.version()
    const dialled = p.opened // the workers' connection and this thread's
    assert.equal(p.open, 2)
    p.hold()
    const inFlight = c.version()
    await new Promise((resolve) => setTimeout(resolve, 50))
    p.release()
    p.cut()
    await rejectsWith(inFlight, UnavailableError)
    await until(() => p.open === 0, 'both connections to close')
    const before = c[THREAD_CALLS]
    assert.match((await c.version()).version, /^\d+\./)
    assert.equal(c[THREAD_CALLS] - before, 1, 'the next call went over a new JS thread connection')
    assert.ok(p.opened > dialled)
    await c.close()
  } finally {
    await p.close()
  }
})

test('close() lets go of the JS thread connection at once', async () => {
  const p = await proxy()
  try {
    const c = await Client.connect({ address: p.address })
    await c.version()
    assert.equal(p.open, 2)
    await c.close()
    // The workers' channel closes once its last call is done; this thread's goes with close().
    await until(() => p.open <= 1, 'the JS thread connection to close')
  } finally {
    await p.close()
  }
})

test('a worker thread gets a connection of its own and exits cleanly without close()', async () => {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    const { Client } = require(workerData.repo)
    ;(async () => {
      const c = await Client.connect({ address: workerData.address })
      for (let i = 0; i < 50; i++) await c.version()
      parentPort.postMessage(c[Symbol.for('containerd-napi.threadCallCount')])
    })()
  `, { eval: true, workerData: { repo: REPO, address: sb.address } })
  // Listening for 'exit' from the start: a worker that ends before its message is read emits
  // 'message' and 'exit' in one go.
  const exited = new Promise((resolve) => worker.once('exit', resolve))
  const count = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject))
  assert.equal(count, 50)
  const code = await exited
  assert.equal(code, 0)
  // The main thread's calls are unaffected by the worker's teardown.
  const c = await Client.connect({ address: sb.address })
  assert.match((await c.version()).version, /^\d+\./)
  await c.close()
})

test('an idle client with a JS thread connection does not hold the process open', async () => {
  const script = `
    const { Client } = require(${JSON.stringify(REPO)})
    Client.connect({ address: ${JSON.stringify(sb.address)} })
      .then(async (c) => { await c.version(); await c.listContainers(); console.log(c[Symbol.for('containerd-napi.threadCallCount')]) })
  `
  const started = Date.now()
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 20000 }, (err, out) => (err ? reject(err) : resolve(out)))
  })
  assert.equal(stdout.trim(), '2')
  assert.ok(Date.now() - started < 15000)
})
