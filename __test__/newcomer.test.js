'use strict'
// What a newcomer hit following the README (issue 22): delete() under a task, an exec never
// started keeping Node alive, run()'s timeout and the pull, misclassified errors, a foreign-platform
// image, connect() that did not connect, v1 client certificates, option names, httpStatus().

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const {
  Client, httpStatus, ContainerdError, NotFoundError, AlreadyExistsError, InvalidArgumentError, FailedPreconditionError,
  DeadlineExceededError, UnavailableError, CancelledError, UnknownError, UnauthenticatedError, PermissionDeniedError,
  ResourceExhaustedError,
} = require('..')
const { sandbox, uniqueName, rejectsWith, throwsWith, silentServer } = require('./helpers.js')

const sb = sandbox()
const ROOT = path.resolve(__dirname, '..')
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const snapshotKeys = (ns) => ctr(ns, 'snapshots', 'ls').split('\n').filter(Boolean).slice(1).map((l) => l.split(/\s+/)[0])

async function client(pull = true) {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('newcomer') })
  if (pull) await c.pull(sb.images.busybox)
  return c
}

test('delete() with a live or a stopped-undeleted task is FailedPreconditionError and changes nothing; asyncDispose removes all', async () => {
  const c = await client()
  for (const stopped of [false, true]) {
    const id = uniqueName('busy')
    const container = await c.createContainer(id, { image: sb.images.busybox, args: ['sleep', '600'] })
    const task = await container.newTask({ stdio: 'ignore' })
    await task.start()
    if (stopped) {
      await task.kill('SIGKILL')
      await task.wait()
    }
    const before = snapshotKeys(c.namespace)
    assert.ok(before.includes(container.snapshotKey))
    const err = await rejectsWith(container.delete(), FailedPreconditionError, /has a task/)
    assert.match(err.message, stopped ? /stopped/ : /running/)
    assert.equal((await c.getContainer(id)).id, id)
    assert.equal((await task.status()).status, stopped ? 'stopped' : 'running')
    assert.deepEqual(snapshotKeys(c.namespace), before)
    await container[Symbol.asyncDispose]()
    await rejectsWith(c.getContainer(id), NotFoundError)
    assert.ok(!snapshotKeys(c.namespace).includes(container.snapshotKey))
    assert.deepEqual(await c.listTasks(), [])
  }
  await c.close()
})

test('an exec created and never started does not keep Node alive once its task is gone and the client closed', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-exec-leak-'))
  const namespace = uniqueName('leak')
  const source = `
    const { Client } = require('.')
    ;(async () => {
      const c = await Client.connect({ address: process.env.SOCK, namespace: process.env.NS })
      await c.pull(process.env.IMAGE)
      const container = await c.createContainer('leak', { image: process.env.IMAGE, args: ['sleep', '600'] })
      const task = await container.newTask({ stdio: 'ignore' })
      await task.start()
      await task.exec('never', { args: ['true'], stdin: true })
      await task.kill('SIGKILL')
      await task.wait()
      await task.delete()
      await container.delete()
      await c.close()
      console.log('done')
    })().catch((e) => { console.error(e); process.exitCode = 1 })`
  const started = Date.now()
  const r = await new Promise((resolve) => execFile(process.execPath, ['-e', source],
    { cwd: ROOT, timeout: 30000, env: { ...process.env, SOCK: sb.address, NS: namespace, IMAGE: sb.images.busybox, TMPDIR: tmp } },
    (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr })))
  assert.equal(r.code, 0, `did not exit by itself (${Date.now() - started} ms): ${r.stderr}`)
  assert.equal(r.stdout.trim(), 'done')
  assert.deepEqual(fs.readdirSync(tmp), [], 'a FIFO directory was left')
  fs.rmSync(tmp, { recursive: true })
})

/** An HTTP "registry" on 127.0.0.1 that accepts connections and never answers. */
async function stallingRegistry() {
  const sockets = new Set()
  const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    host: `127.0.0.1:${server.address().port}`,
    connections: () => sockets.size,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r) }),
  }
}

test('run() timeoutMs covers the pull: a stalling registry is DeadlineExceededError in about timeoutMs, nothing left', async () => {
  const c = await client(false)
  const registry = await stallingRegistry()
  try {
    const started = Date.now()
    const err = await rejectsWith(c.run(`${registry.host}/stall:latest`, ['true'], { timeoutMs: 1000 }), DeadlineExceededError, /1000 ms/)
    const took = Date.now() - started
    assert.ok(took >= 900 && took < 4000, `took ${took} ms`)
    assert.match(err.message, /pull/)
    assert.deepEqual(await c.listContainers(), [])
    assert.deepEqual(await c.listImages(), [])
    assert.equal(ctr(c.namespace, 'leases', 'ls').trim().split('\n').length, 1, 'a lease was left')
    // A pull alone stays abortable.
    await rejectsWith(c.pull(`${registry.host}/stall:latest`, { signal: AbortSignal.timeout(300) }), CancelledError)
  } finally {
    await registry.close()
    await c.close()
  }
})

test('misclassifications: start twice, a malformed name, a malformed event filter, digest references', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('twice'), { image: sb.images.busybox, args: ['sleep', '600'] })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  await rejectsWith(task.start(), FailedPreconditionError, /running.*only once/)
  await container[Symbol.asyncDispose]()

  await rejectsWith(c.getImage('Bad Ref!'), InvalidArgumentError, /invalid image reference/)
  await rejectsWith(c.getImage('no-such-image'), NotFoundError)
  await rejectsWith(c.listImages(['name==']), InvalidArgumentError)
  const stream = c.subscribe({ filters: ['topic=="unterminated'] })
  await rejectsWith(stream.ready, InvalidArgumentError, /filter/)
  stream.close?.()

  const digest = `sha256:${'0'.repeat(64)}`
  const err = await rejectsWith(c.pull(`${sb.registry}/busybox@${digest}`), NotFoundError)
  assert.ok(err.message.includes(`busybox@${digest}`), err.message)
  assert.ok(!err.message.includes(`busybox:${digest}`), err.message)
  await c.close()
})

test('an image pulled for another platform: isUnpacked() false; size/unpack/createContainer name the platforms', async () => {
  const c = await client(false)
  const image = await c.pull(sb.images.multiarch, { platform: 'linux/arm64' })
  assert.equal(await image.isUnpacked(), false)
  for (const call of [() => image.size(), () => image.unpack(), () => c.createContainer(uniqueName('arm'), { image })]) {
    await rejectsWith(call(), FailedPreconditionError, /no content for platform linux\/amd64.*linux\/arm64/)
  }
  assert.ok((await image.size({ platform: 'linux/arm64' })) > 0)
  assert.deepEqual(await c.listContainers(), [])
  await c.close()
})

test('deleteImage() by digest', async () => {
  const c = await client()
  const image = await c.getImage(sb.images.busybox)
  await c.deleteImage(image.target.digest)
  await rejectsWith(c.getImage(sb.images.busybox), NotFoundError)
  await rejectsWith(c.deleteImage(image.target.digest), NotFoundError, /no image has this digest/)
  await c.pull(sb.images.busybox)
  await c.pull(sb.images.v2s2 ?? sb.images.busybox).catch(() => {})
  await c.close()
})

test('connect() really connects: nothing answering is UnavailableError within timeoutMs; its signal aborts', async () => {
  const silent = await silentServer()
  try {
    const started = Date.now()
    await rejectsWith(Client.connect({ address: silent.address, timeoutMs: 500 }), UnavailableError, /within 500 ms/)
    const took = Date.now() - started
    assert.ok(took >= 400 && took < 3000, `took ${took} ms`)
    const err = await rejectsWith(Client.connect({ address: silent.address, timeoutMs: 0, signal: AbortSignal.timeout(200) }), CancelledError)
    assert.equal(err.name, 'AbortError')
  } finally {
    await silent.close()
  }
})

test('a v1 client certificate is an InvalidArgumentError that says v3 is needed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-v1cert-'))
  try {
    const f = (n) => path.join(dir, n)
    execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('key.pem'), '-subj', '/CN=client', '-out', f('csr.pem')], { stdio: 'ignore' })
    execFileSync('openssl', ['x509', '-req', '-in', f('csr.pem'), '-signkey', f('key.pem'), '-days', '1', '-out', f('cert.pem')], { stdio: 'ignore' })
    const text = execFileSync('openssl', ['x509', '-in', f('cert.pem'), '-noout', '-text'], { encoding: 'utf8' })
    assert.match(text, /Version: 1 /)
    const tls = { ca: fs.readFileSync(sb.tls.ca), cert: fs.readFileSync(f('cert.pem')), key: fs.readFileSync(f('key.pem')) }
    return rejectsWith(Client.connect({ address: sb.tls.address, tls }), InvalidArgumentError, /tls\.cert .*v1.*v3/)
  } finally {
    fs.rmSync(dir, { recursive: true })
  }
})

test('unknown option names are InvalidArgumentErrors naming the option and the known ones', async () => {
  await rejectsWith(Client.connect({ address: sb.address, timeout: 5 }), InvalidArgumentError, /options\.timeout is not a known option; known: address, namespace, timeoutMs/)
  const c = await client(false)
  await rejectsWith(c.version({ signl: null }), InvalidArgumentError, /options\.signl.*known: signal/)
  await rejectsWith(c.pull(sb.images.busybox, { platfrom: 'linux/amd64' }), InvalidArgumentError, /options\.platfrom/)
  await rejectsWith(c.createContainer('x', { image: 'busybox', cmd: ['sh'] }), InvalidArgumentError, /options\.cmd .*args/)
  await rejectsWith(c.run('busybox', ['true'], { timeout: 5 }), InvalidArgumentError, /options\.timeout/)
  await rejectsWith(c.run('busybox', ['true'], { pull: { onProgress: () => {} } }), InvalidArgumentError, /options\.pull\.onProgress/)
  throwsWith(() => c.subscribe({ filter: [] }), InvalidArgumentError, /options\.filter .*filters/)
  await rejectsWith(c.deleteImage('busybox', { force: true }), InvalidArgumentError, /options\.force/)
  await c.close()
})

test('a throwing onProgress warns once per pull', async () => {
  const c = await client(false)
  const warnings = []
  const onWarning = (w) => warnings.push(w.message)
  process.on('warning', onWarning)
  try {
    let calls = 0
    await c.pull(sb.images.multilayer, { onProgress: () => { calls++; throw new Error('boom') } })
    await new Promise((r) => setImmediate(r))
    assert.ok(calls > 1, `only ${calls} reports`)
    assert.equal(warnings.filter((m) => m.includes('onProgress threw')).length, 1, warnings.join('\n'))
  } finally {
    process.off('warning', onWarning)
    await c.close()
  }
})

test('httpStatus() maps error classes to HTTP statuses', () => {
  const cases = [
    [NotFoundError, 404], [AlreadyExistsError, 409], [FailedPreconditionError, 409], [InvalidArgumentError, 400],
    [UnauthenticatedError, 401], [PermissionDeniedError, 403], [ResourceExhaustedError, 429], [UnavailableError, 503],
    [DeadlineExceededError, 504], [UnknownError, 500], [CancelledError, 500], [ContainerdError, 500],
  ]
  for (const [cls, status] of cases) assert.equal(httpStatus(new cls('x')), status, cls.name)
  assert.equal(httpStatus(new Error('plain')), 500)
  assert.equal(httpStatus(undefined), 500)
  assert.equal(httpStatus({ code: 'NOT_FOUND' }), 500, 'only ContainerdErrors map')
})
