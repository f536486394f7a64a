'use strict'
// Image lifecycle against the sandbox daemon and registries: tagImage and push (plain, basic-auth,
// token-auth and HTTPS registries; skips, cross-repository mounts, errors, abort).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const fs = require('node:fs')
const {
  Client, Image, NotFoundError, UnauthenticatedError, AlreadyExistsError, InvalidArgumentError, CancelledError,
  FailedPreconditionError,
} = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const execFileAsync = promisify(execFile)
const SECRET = 'Wr0ng-S3cret-x9'

async function client(ns = uniqueName('life')) {
  return Client.connect({ address: sb.address, namespace: ns })
}

/** The manifest digest a registry serves for `ref`, as skopeo sees it. */
async function skopeoDigest(ref, args = ['--tls-verify=false']) {
  const { stdout } = await execFileAsync('skopeo', ['inspect', '--raw', ...args, `docker://${ref}`], { encoding: 'buffer' })
  return `sha256:${require('node:crypto').createHash('sha256').update(stdout).digest('hex')}`
}

/** Pushes with progress recorded; returns { pushed, statuses: { digest: final status }, reports }. */
async function pushRecorded(c, name, options) {
  const reports = []
  const pushed = await c.push(name, { ...options, onProgress: (p) => reports.push(p) })
  const last = reports.at(-1)
  assert.equal(last.phase, 'done')
  assert.equal(last.uploadedBytes, last.totalBytes)
  const statuses = Object.fromEntries(last.blobs.map((b) => [b.digest, b.status]))
  return { pushed, statuses, reports }
}

test('tagImage: a second name on the same target; AlreadyExistsError unless force', async () => {
  const c = await client()
  const busybox = await c.pull(sb.images.busybox, { unpack: false, labels: { from: 'busybox' } })
  const multilayer = await c.pull(sb.images.multilayer, { unpack: false })
  const tagged = await c.tagImage(sb.images.busybox, 'app:1')
  assert.ok(tagged instanceof Image)
  assert.equal(tagged.name, 'docker.io/library/app:1')
  assert.deepEqual(tagged.target, busybox.target)
  assert.deepEqual(tagged.labels, { from: 'busybox' })
  assert.deepEqual((await c.getImage('app:1')).target, busybox.target)
  await rejectsWith(c.tagImage(sb.images.multilayer, 'app:1'), AlreadyExistsError, /force/)
  assert.deepEqual((await c.getImage('app:1')).target, busybox.target, 'unchanged after the refusal')
  const forced = await c.tagImage(sb.images.multilayer, 'app:1', { force: true })
  assert.deepEqual(forced.target, multilayer.target)
  assert.deepEqual((await c.getImage('app:1')).target, multilayer.target)
  await rejectsWith(c.tagImage('nope:404', 'app:2'), NotFoundError)
  await rejectsWith(c.tagImage(sb.images.busybox, 'Bad Name!'), InvalidArgumentError)
  await rejectsWith(c.tagImage(sb.images.busybox, 'app:3', { force: 'yes' }), InvalidArgumentError)
  await c.close()
})

test('push to the plain registry: same digest, mounts from the source repository, then all exists', async () => {
  const c = await client()
  const img = await c.pull(sb.images.multilayer, { unpack: false })
  const target = `${sb.registry}/${uniqueName('pushed')}:v1`
  const first = await pushRecorded(c, sb.images.multilayer, { target })
  assert.deepEqual(first.pushed, { digest: img.target.digest, size: img.target.size })
  assert.equal(await skopeoDigest(target), img.target.digest)
  const statuses = Object.values(first.statuses)
  // The blobs came from <registry>/multilayer, so they are mounted, not uploaded again.
  assert.ok(statuses.length > 1 && statuses.every((s) => s === 'mounted'), JSON.stringify(first.statuses))

  const again = await pushRecorded(c, sb.images.multilayer, { target })
  assert.ok(Object.values(again.statuses).every((s) => s === 'exists'), JSON.stringify(again.statuses))
  assert.equal(again.pushed.digest, img.target.digest)

  // A tagged image pushes under its own name by default.
  await c.tagImage(sb.images.multilayer, target.replace(':v1', ':v2'))
  const own = await c.push(target.replace(':v1', ':v2'))
  assert.equal(own.digest, img.target.digest)
  assert.equal(await skopeoDigest(target.replace(':v1', ':v2')), img.target.digest)
  await c.close()
})

test('push to the basic-auth registry: digest, wrong password, second repository mounts', async () => {
  const { host, username, password } = sb.registries.basic
  const c = await client()
  const img = await c.pull(sb.images.busybox, { unpack: false })
  const auth = { username, password }
  const repo = `${host}/private/${uniqueName('p')}`
  const { pushed, statuses } = await pushRecorded(c, sb.images.busybox, { target: `${repo}:v1`, auth })
  assert.equal(pushed.digest, img.target.digest)
  // The plain registry is another host: nothing to mount from; the fixture's blobs were pushed
  // to private/busybox by the sandbox, but this namespace does not know that.
  assert.ok(Object.values(statuses).every((s) => s === 'uploaded' || s === 'exists'), JSON.stringify(statuses))
  assert.equal(await skopeoDigest(`${repo}:v1`, ['--tls-verify=false', '--creds', `${username}:${password}`]), img.target.digest)

  const second = await pushRecorded(c, sb.images.busybox, { target: `${host}/private/${uniqueName('q')}:v1`, auth })
  assert.ok(Object.values(second.statuses).every((s) => s === 'mounted'), JSON.stringify(second.statuses))

  const err = await rejectsWith(c.push(sb.images.busybox, { target: `${repo}:v2`, auth: { username, password: SECRET } }), UnauthenticatedError)
  assert.ok(!err.message.includes(SECRET) && !JSON.stringify(err).includes(SECRET), err.message)
  await rejectsWith(c.push(sb.images.busybox, { target: `${repo}:v3` }), UnauthenticatedError)
  await c.close()
})

test('push to the token-auth registry: push scope, mounts with pull scope on the source', async () => {
  const { host, username, password } = sb.registries.token
  const c = await client()
  const img = await c.pull(sb.images.busybox, { unpack: false })
  const auth = { username, password }
  const repo = `${host}/private/${uniqueName('t')}`
  const { pushed } = await pushRecorded(c, sb.images.busybox, { target: `${repo}:v1`, auth })
  assert.equal(pushed.digest, img.target.digest)
  assert.equal(await skopeoDigest(`${repo}:v1`, ['--tls-verify=false', '--creds', `${username}:${password}`]), img.target.digest)
  const second = await pushRecorded(c, sb.images.busybox, { target: `${host}/private/${uniqueName('u')}:v1`, auth })
  assert.ok(Object.values(second.statuses).every((s) => s === 'mounted'), JSON.stringify(second.statuses))
  const err = await rejectsWith(c.push(sb.images.busybox, { target: `${repo}:v2`, auth: { username, password: SECRET } }), UnauthenticatedError)
  assert.ok(!err.message.includes(SECRET), err.message)
  await c.close()
})

test('push to the HTTPS registry with its CA', async () => {
  const { host, ca } = sb.registries.tls
  const c = await client()
  const img = await c.pull(sb.images.busybox, { unpack: false })
  const target = `${host}/${uniqueName('s')}:v1`
  const pushed = await c.push(sb.images.busybox, { target, tls: { ca: fs.readFileSync(ca) } })
  assert.equal(pushed.digest, img.target.digest)
  await c.close()
})

test('push of an index: all platforms when all are stored, one with platform', async () => {
  const c = await client()
  const fixture = sb.fixtures.multiarch
  await c.pull(fixture.ref, { unpack: false, platform: 'linux/amd64' })
  const target = `${sb.registry}/${uniqueName('multi')}:v1`
  await rejectsWith(c.push(fixture.ref, { target }), FailedPreconditionError, /platform option/)
  const amd64 = fixture.platforms.find((p) => p.architecture === 'amd64')
  const one = await c.push(fixture.ref, { target, platform: 'linux/amd64' })
  assert.equal(one.digest, amd64.manifestDigest)
  assert.equal(await skopeoDigest(target), amd64.manifestDigest)
  // Every platform stored: the index itself, bytes unchanged.
  for (const p of fixture.platforms) {
    const name = p.variant ? `linux/${p.architecture}/${p.variant}` : `linux/${p.architecture}`
    await c.pull(fixture.ref, { unpack: false, platform: name })
  }
  const all = await c.push(fixture.ref, { target })
  assert.equal(all.digest, fixture.digest)
  assert.equal(await skopeoDigest(target), fixture.digest)
  await c.close()
})

test('push: unknown image NotFoundError, bad options InvalidArgumentError, abort mid-upload leaves no manifest', async () => {
  const c = await client()
  await rejectsWith(c.push('nope:404'), NotFoundError)
  await rejectsWith(c.push(sb.images.busybox, { maxConcurrentUploads: 0 }), InvalidArgumentError)
  await rejectsWith(c.push(sb.images.busybox, { bogus: 1 }), InvalidArgumentError)
  await c.pull(sb.images.large, { unpack: false })
  // Another registry than the one it came from: nothing to mount, every blob is uploaded.
  const { host, username, password } = sb.registries.basic
  const target = `${host}/private/${uniqueName('abort')}:v1`
  const ac = new AbortController()
  const pushing = c.push(sb.images.large, {
    target,
    auth: { username, password },
    maxConcurrentUploads: 1,
    onProgress: (p) => { if (p.uploadedBytes > 0 && p.blobs.some((b) => b.status === 'uploading')) ac.abort() },
    signal: ac.signal,
  })
  await rejectsWith(pushing, CancelledError)
  await assert.rejects(skopeoDigest(target, ['--tls-verify=false', '--creds', `${username}:${password}`]), /manifest unknown|not found|404/i)
  await c.close()
})

// ---------- exportImages ----------

const os = require('node:os')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')
const { execFileSync } = require('node:child_process')
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-archive-'))
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))

test('exportImages: two images in one tar; ctr imports it with the same digests and runs it', async () => {
  const c = await client()
  const busybox = await c.pull(sb.images.busybox, { unpack: false })
  const multilayer = await c.pull(sb.images.multilayer, { unpack: false })
  const file = path.join(tmp, 'two.tar')
  await pipeline(await c.exportImages([sb.images.busybox, sb.images.multilayer]), fs.createWriteStream(file))
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean)
  for (const n of ['oci-layout', 'index.json', 'manifest.json']) assert.ok(names.includes(n), n)
  assert.ok(names.includes(`blobs/sha256/${busybox.target.digest.slice(7)}`))
  const docker = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }))
  assert.equal(docker.length, 2)
  const repo = sb.registry
  assert.deepEqual(docker.map((m) => m.RepoTags), [[`${repo}/busybox:latest`], [`${repo}/multilayer:latest`]])
  for (const m of docker) for (const f of [m.Config, ...m.Layers]) assert.ok(names.includes(f), f)

  const other = uniqueName('life-import')
  ctr(other, 'images', 'import', file)
  const listed = ctr(other, 'images', 'ls')
  for (const img of [busybox, multilayer]) {
    const row = listed.split('\n').find((l) => l.startsWith(img.name + ' '))
    assert.ok(row && row.includes(img.target.digest), listed)
  }
  assert.match(ctr(other, 'run', '--rm', sb.images.busybox, uniqueName('c'), 'echo', 'exported-ok'), /exported-ok/)
  await c.close()
})

test('exportImages: NotFoundError before any byte; abort destroys the stream with CancelledError', async () => {
  const c = await client()
  await rejectsWith(c.exportImages([sb.images.busybox]), NotFoundError)
  await rejectsWith(c.exportImages([]), InvalidArgumentError)
  await c.pull(sb.images.large, { unpack: false })
  const ac = new AbortController()
  const stream = await c.exportImages(sb.images.large, { signal: ac.signal })
  let bytes = 0
  await rejectsWith((async () => {
    for await (const chunk of stream) {
      bytes += chunk.length
      if (bytes > 4 << 20) ac.abort()
    }
  })(), CancelledError)
  await c.close()
})

test('exportImages of the largest fixture streams: under 64 MiB of extra RSS (collected every 8 MiB)', async () => {
  const c = await client()
  const img = await c.pull(sb.images.large, { unpack: false })
  const size = await img.size()
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  let bytes = 0
  const stream = await c.exportImages(sb.images.large)
  let sampled = 0
  for await (const chunk of stream) {
    bytes += chunk.length
    peak = Math.max(peak, process.memoryUsage().rss)
    // What is held, not what the collector has not got round to yet (chunks are external memory).
    if (bytes - sampled > 8 << 20) { sampled = bytes; global.gc?.() }
  }
  assert.ok(bytes > size, `${bytes} bytes for an image of ${size}`)
  const extra = (peak - before) / (1 << 20)
  console.log(`# export of ${(size / (1 << 20)).toFixed(1)} MiB: peak extra RSS ${extra.toFixed(1)} MiB`)
  assert.ok(extra < 64, `extra RSS ${extra.toFixed(1)} MiB`)
  await c.close()
})
