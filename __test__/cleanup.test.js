'use strict'
// client.cleanup() (issue 15): child processes SIGKILLed inside run() and inside pull() leave a
// container, task, snapshot and lease behind; cleanup() removes those, and never touches a ctr
// container, a createContainer one, another machine's, or a run() in flight in a live process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')
const { Client, CancelledError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const rows = (text) => text.split('\n').filter(Boolean).slice(1)
const PACKAGE = path.join(__dirname, '..')

/** A node child running `body` (an async function's text) with a connected client `c`. */
function child(namespace, body) {
  const script = `
    const { Client } = require(${JSON.stringify(PACKAGE)})
    ;(async () => {
      const c = await Client.connect({ address: ${JSON.stringify(sb.address)}, namespace: ${JSON.stringify(namespace)} })
      ${body}
    })().catch((e) => { console.error(e); process.exit(1) })`
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit'] })
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(signal ?? code)))
  return { proc, exited }
}

async function until(what, check, ms = 60000) {
  const end = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function exists(c, id) {
  try {
    await c.getContainer(id)
    return true
  } catch {
    return false
  }
}

async function running(c, id) {
  try {
    return (await (await c.getContainer(id)).task()).pid > 0 && (await c.listTasks()).some((t) => t.id === id && t.status === 'running')
  } catch {
    return false
  }
}

test('cleanup() removes what SIGKILLed run() and pull() left, and nothing else', async () => {
  const ns = uniqueName('clean')
  const c = await Client.connect({ address: sb.address, namespace: ns })
  await c.pull(sb.images.busybox)
  const image = sb.images.busybox

  // A registry front that holds every blob request open: a pull inside it never ends.
  let blobRequests = 0
  const sockets = new Set()
  const upstream = sb.registry.split(':')
  const front = http.createServer((req, res) => {
    if (/\/blobs\/sha256:/.test(req.url)) { blobRequests++; return }
    const forward = http.request({ host: upstream[0], port: Number(upstream[1]), method: req.method, path: req.url, headers: req.headers }, (a) => {
      res.writeHead(a.statusCode, a.rawHeaders)
      a.pipe(res)
    })
    req.pipe(forward)
  })
  front.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise((r) => front.listen(0, '127.0.0.1', r))
  const frontRef = `127.0.0.1:${front.address().port}/${sb.images.multilayer.slice(sb.images.multilayer.indexOf('/') + 1)}`

  // 1. A child killed inside run(): its container runs `sleep 1000`.
  const deadRun = uniqueName('dead-run')
  const runner = child(ns, `await c.run(${JSON.stringify(image)}, ['sleep', '1000'], { id: ${JSON.stringify(deadRun)} })`)
  await until('the child run() to start its task', () => running(c, deadRun))
  runner.proc.kill('SIGKILL')
  assert.equal(await runner.exited, 'SIGKILL')

  // 2. A child killed inside pull(): its lease stays.
  const leasesBefore = new Set(rows(ctr(ns, 'leases', 'ls')).map((l) => l.split(/\s+/)[0]))
  const puller = child(ns, `await c.pull(${JSON.stringify(frontRef)}, { unpack: false })`)
  await until('the child pull() to ask for a blob', () => blobRequests > 0)
  puller.proc.kill('SIGKILL')
  assert.equal(await puller.exited, 'SIGKILL')
  const deadLeases = rows(ctr(ns, 'leases', 'ls')).map((l) => l.split(/\s+/)[0]).filter((id) => !leasesBefore.has(id))
  assert.equal(deadLeases.length, 1, `the pull's lease: ${deadLeases}`)

  // 3. What must stay: ctr's container, createContainer's, another machine's, a live run().
  const byCtr = uniqueName('ctr')
  ctr(ns, 'containers', 'create', image, byCtr)
  const made = await c.createContainer(uniqueName('made'), { image })
  const foreign = await c.createContainer(uniqueName('foreign'), { image, labels: { 'containerd-napi/owner': 'another-machine/boot/1/1' } })
  const live = uniqueName('live-run')
  const abort = new AbortController()
  const inFlight = c.run(image, ['sleep', '1000'], { id: live, signal: abort.signal })
  await until('the live run() to start', () => running(c, live))

  const snapshotsBefore = rows(ctr(ns, 'snapshots', 'ls')).length
  const report = await c.cleanup()
  assert.deepEqual(report.containers, [deadRun])
  assert.deepEqual(report.leases, deadLeases)
  assert.equal(typeof report.networks, 'number')

  assert.equal(await exists(c, deadRun), false)
  assert.ok(!(await c.listTasks()).some((t) => t.id === deadRun), 'its task is gone')
  assert.equal(rows(ctr(ns, 'snapshots', 'ls')).length, snapshotsBefore - 1, 'its snapshot is gone')
  assert.ok(!rows(ctr(ns, 'leases', 'ls')).some((l) => l.startsWith(deadLeases[0])), 'the dead pull lease is gone')
  for (const id of [byCtr, made.id, foreign.id, live]) assert.ok(await exists(c, id), `${id} untouched`)
  assert.ok(await running(c, live), 'the live run() keeps running')
  assert.deepEqual(await c.cleanup(), { containers: [], leases: [], networks: 0 }, 'nothing more to do')

  abort.abort()
  await rejectsWith(inFlight, CancelledError)
  assert.equal(await exists(c, live), false, 'run() removed its own on abort')
  ctr(ns, 'containers', 'delete', byCtr)
  await made.delete()
  await foreign.delete()
  for (const s of sockets) s.destroy()
  await new Promise((r) => front.close(r))
  await c.close()
})
