'use strict'
// Pull, part 1 (content and image record, no unpack) against the sandbox registries and daemon.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const {
  Client, Image, NotFoundError, UnauthenticatedError, UnavailableError, DataLossError, InvalidArgumentError,
  CancelledError,
} = require('..')
const { sandbox, uniqueName, closedPort, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const lines = (text) => text.split('\n').filter(Boolean)
const SECRET = 'Wr0ng-S3cret-x9'

async function client(ns = uniqueName('pull')) {
  const c = await Client.connect({ address: sb.address, namespace: ns })
  return c
}

/** Nothing a failed pull may leave: leases, active ingests, image records. */
function assertNothingLeft(ns) {
  assert.deepEqual(lines(ctr(ns, 'leases', 'ls', '-q')), [], 'leases left')
  assert.deepEqual(lines(ctr(ns, 'content', 'active')).slice(1), [], 'ingests left')
  assert.deepEqual(lines(ctr(ns, 'images', 'ls', '-q')), [], 'images left')
}

/** `ctr images check` says every blob of the image is there. */
function assertComplete(ns, name) {
  const row = lines(ctr(ns, 'images', 'check')).find((l) => l.startsWith(name + ' '))
  assert.ok(row, `ctr does not list ${name}`)
  assert.match(row, /\bcomplete \(\d+\/\d+\)/, row)
}

function contentLabels(ns, digest) {
  const row = lines(ctr(ns, 'content', 'ls')).find((l) => l.startsWith(digest))
  assert.ok(row, `no content ${digest}`)
  // ctr joins labels with ',' and values may hold ',' too: a piece without '=' continues a value.
  const labels = {}
  let last
  for (const piece of row.split(/\s+/).pop().split(',')) {
    const eq = piece.indexOf('=')
    if (eq < 0 && last) labels[last] += `,${piece}`
    else labels[(last = piece.slice(0, eq))] = piece.slice(eq + 1)
  }
  return labels
}

test('two pulls of the same image at once both succeed', async () => {
  const c = await client()
  const other = c.withNamespace(uniqueName('pull'))
  const ref = sb.images.multilayer
  const [a, b, d] = await Promise.all([c.pull(ref, { unpack: false }), c.pull(ref, { unpack: false }), other.pull(ref, { unpack: false })])
  for (const img of [a, b, d]) assert.equal(img.target.digest, sb.fixtures.multilayer.digest)
  assertComplete(c.namespace, ref)
  assertComplete(other.namespace, ref)
  assert.deepEqual(lines(ctr(c.namespace, 'leases', 'ls', '-q')), [])
  await c.close()
})

test('every fixture pulls complete, with GC and distribution-source labels', async () => {
  const c = await client()
  for (const name of ['busybox', 'multilayer', 'v2s2', 'multiarch']) {
    const fixture = sb.fixtures[name]
    const img = await c.pull(fixture.ref, { unpack: false, labels: { fixture: name } })
    assert.ok(img instanceof Image)
    assert.equal(img.name, fixture.ref)
    assert.deepEqual(img.target, { mediaType: fixture.mediaType, digest: fixture.digest, size: img.target.size })
    assert.ok(img.target.size > 0)
    assert.deepEqual(img.labels, { fixture: name })
    assert.ok(img.createdAt instanceof Date && img.createdAt.getTime() > Date.now() - 60000)
    assertComplete(c.namespace, fixture.ref)
    const amd64 = fixture.platforms.find((p) => p.architecture === 'amd64')
    const manifestLabels = contentLabels(c.namespace, amd64.manifestDigest)
    assert.equal(manifestLabels['containerd.io/gc.ref.content.config'], amd64.configDigest)
    amd64.layers.forEach((l, i) => assert.equal(manifestLabels[`containerd.io/gc.ref.content.l.${i}`], l.digest))
    const source = `containerd.io/distribution.source.${sb.registry}`
    for (const layer of amd64.layers) assert.ok(contentLabels(c.namespace, layer.digest)[source]?.split(',').includes(name))
  }
  const index = contentLabels(c.namespace, sb.fixtures.multiarch.digest)
  sb.fixtures.multiarch.platforms.forEach((p, i) => assert.equal(index[`containerd.io/gc.ref.content.m.${i}`], p.manifestDigest))
  assert.deepEqual(lines(ctr(c.namespace, 'leases', 'ls', '-q')), [])
  assert.deepEqual(lines(ctr(c.namespace, 'content', 'active')).slice(1), [])
  await c.close()
})

test('an index yields the host (amd64) manifest by default and arm64 on request', async () => {
  const fixture = sb.fixtures.multiarch
  const [amd64, arm64] = ['amd64', 'arm64'].map((a) => fixture.platforms.find((p) => p.architecture === a))
  const c = await client()
  await c.pull(fixture.ref, { unpack: false })
  const have = (ns) => new Set(lines(ctr(ns, 'content', 'ls', '-q')))
  assert.ok(have(c.namespace).has(amd64.configDigest))
  assert.ok(!have(c.namespace).has(arm64.configDigest), 'the arm64 config was fetched without being asked for')
  const arm = c.withNamespace(uniqueName('pull'))
  const img = await arm.pull(fixture.ref, { unpack: false, platform: 'linux/arm64' })
  assert.equal(img.target.digest, fixture.digest)
  assert.ok(have(arm.namespace).has(arm64.configDigest) && have(arm.namespace).has(arm64.layers[0].digest))
  assert.ok(!have(arm.namespace).has(amd64.configDigest))
  await rejectsWith(c.pull(fixture.ref, { unpack: false, platform: 'linux/s390x' }), NotFoundError, /linux\/s390x.*linux\/amd64/)
  await c.close()
})

test('a digest reference pulls that exact content', async () => {
  const c = await client()
  const fixture = sb.fixtures.busybox
  const ref = `${sb.registry}/busybox@${fixture.digest}`
  const img = await c.pull(ref, { unpack: false })
  assert.equal(img.name, ref)
  assert.equal(img.target.digest, fixture.digest)
  const wrong = `${sb.registry}/busybox@sha256:${'0'.repeat(64)}`
  await rejectsWith(c.pull(wrong, { unpack: false }), NotFoundError)
  await c.close()
})

test('basic auth: credentials from options and from a docker config; wrong or none are UnauthenticatedError', async () => {
  const { ref, username, password, host } = sb.registries.basic
  const c = await client()
  await c.pull(ref, { unpack: false, auth: { username, password } })
  assertComplete(c.namespace, ref)
  const none = c.withNamespace(uniqueName('pull'))
  const missing = await rejectsWith(none.pull(ref, { unpack: false }), UnauthenticatedError, /credentials/)
  assert.equal(missing.grpcCode, 16)
  const wrong = await rejectsWith(none.pull(ref, { unpack: false, auth: { username, password: SECRET } }), UnauthenticatedError)
  assert.ok(!JSON.stringify({ m: wrong.message, d: wrong.details, s: wrong.stack }).includes(SECRET))
  assertNothingLeft(none.namespace)

  await withDockerConfig({ [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } }, async () => {
    const viaConfig = c.withNamespace(uniqueName('pull'))
    await viaConfig.pull(ref, { unpack: false })
    assertComplete(viaConfig.namespace, ref)
  })
  await c.close()
})

test('bearer tokens: credentials from options, a docker config, or a token; wrong or none are UnauthenticatedError', async () => {
  const { ref, username, password, host, realm } = sb.registries.token
  const c = await client()
  await c.pull(ref, { unpack: false, auth: { username, password } })
  assertComplete(c.namespace, ref)
  const other = c.withNamespace(uniqueName('pull'))
  await rejectsWith(other.pull(ref, { unpack: false }), UnauthenticatedError)
  const wrong = await rejectsWith(other.pull(ref, { unpack: false, auth: { username, password: SECRET } }), UnauthenticatedError, /token service/)
  assert.ok(!JSON.stringify({ m: wrong.message, d: wrong.details }).includes(SECRET))
  await rejectsWith(other.pull(ref, { unpack: false, auth: { token: SECRET } }), UnauthenticatedError)
  assertNothingLeft(other.namespace)

  const repo = ref.slice(host.length + 1).split(':')[0]
  const url = `${realm}?service=containerd-napi-registry&scope=repository:${repo}:pull`
  const answer = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } })
  const { token } = await answer.json()
  const viaToken = c.withNamespace(uniqueName('pull'))
  await viaToken.pull(ref, { unpack: false, auth: { token } })
  assertComplete(viaToken.namespace, ref)

  await withDockerConfig({ [`http://${host}`]: { username, password } }, async () => {
    const viaConfig = c.withNamespace(uniqueName('pull'))
    await viaConfig.pull(ref, { unpack: false })
    assertComplete(viaConfig.namespace, ref)
  })
  await c.close()
})

test('TLS registry: works with tls.ca, is a certificate UnavailableError without it', async () => {
  const { ref, ca } = sb.registries.tls
  const c = await client()
  await c.pull(ref, { unpack: false, tls: { ca: fs.readFileSync(ca, 'utf8') } })
  assertComplete(c.namespace, ref)
  const other = c.withNamespace(uniqueName('pull'))
  await rejectsWith(other.pull(ref, { unpack: false, plainHttp: false }), UnavailableError, /certificate/i)
  await rejectsWith(other.pull(ref, { unpack: false, tls: { ca: fs.readFileSync(sb.tls.wrongCa) } }), UnavailableError, /certificate/i)
  assertNothingLeft(other.namespace)
  await other.pull(ref, { unpack: false, tls: { insecureSkipVerify: true } })
  await c.close()
})

test('unknown repository or tag is NotFoundError, a dead registry UnavailableError; nothing is left', async () => {
  const c = await client()
  await rejectsWith(c.pull(`${sb.registry}/no-such-repo:latest`, { unpack: false }), NotFoundError, /no-such-repo/)
  await rejectsWith(c.pull(`${sb.registry}/busybox:no-such-tag`, { unpack: false }), NotFoundError, /no-such-tag/)
  const down = `127.0.0.1:${await closedPort()}`
  const err = await rejectsWith(c.pull(`${down}/busybox:latest`, { unpack: false }), UnavailableError)
  assert.ok(err.message.includes(down), err.message)
  assertNothingLeft(c.namespace)
  await c.close()
})

test('bytes that do not match their digest are DataLossError; nothing is left', async () => {
  const c = await client()
  const err = await rejectsWith(c.pull(sb.registries.corrupt.ref, { unpack: false }), DataLossError, /do not match their digest/)
  assert.equal(err.grpcCode, 15)
  assertNothingLeft(c.namespace)
  const facts = sb.fixtures.corrupt.platforms[0]
  const present = new Set(lines(ctr(c.namespace, 'content', 'ls', '-q')))
  assert.ok(!present.has(facts.configDigest), 'corrupted config was committed')
  await c.close()
})

test('malformed input is InvalidArgumentError before any I/O', async () => {
  const c = await client()
  for (const ref of ['', 'UPPER:case', 'a//b', 'busybox@sha256:abc', 'x y']) {
    await rejectsWith(c.pull(ref, { unpack: false }), InvalidArgumentError, /reference/)
  }
  await rejectsWith(c.pull('busybox', { unpack: false, platform: 'linux' }), InvalidArgumentError, /platform/)
  await rejectsWith(c.pull('busybox', { unpack: false, maxConcurrentDownloads: 0 }), InvalidArgumentError, /maxConcurrentDownloads/)
  await rejectsWith(c.pull('busybox', { unpack: false, auth: { username: 'u' } }), InvalidArgumentError, /password/)
  await rejectsWith(c.pull('busybox', { unpack: false, tls: { ca: 7 } }), InvalidArgumentError, /tls.ca/)
  await rejectsWith(c.pull(42), InvalidArgumentError, /ref must be a string/)
  assertNothingLeft(c.namespace)
  await c.close()
})

test('an already aborted signal rejects with CancelledError and leaves nothing', async () => {
  const c = await client()
  await rejectsWith(c.pull(sb.images.busybox, { unpack: false, signal: AbortSignal.abort() }), CancelledError)
  assertNothingLeft(c.namespace)
  await c.close()
})

test('getImage, listImages with filters, deleteImage', async () => {
  const c = await client()
  await c.pull(sb.images.busybox, { unpack: false, labels: { which: 'one' } })
  await c.pull(sb.images.v2s2, { unpack: false })
  const got = await c.getImage(sb.images.busybox)
  assert.equal(got.name, sb.images.busybox)
  assert.deepEqual(got.labels, { which: 'one' })
  assert.equal(got.target.digest, sb.fixtures.busybox.digest)
  const all = await c.listImages()
  assert.deepEqual(all.map((i) => i.name).sort(), [sb.images.busybox, sb.images.v2s2].sort())
  const filtered = await c.listImages(['name~="v2s2"'])
  assert.deepEqual(filtered.map((i) => i.name), [sb.images.v2s2])
  assert.deepEqual((await c.listImages(['labels.which==one'])).map((i) => i.name), [sb.images.busybox])
  await rejectsWith(c.getImage(`${sb.registry}/nothing:here`), NotFoundError)
  await c.deleteImage(sb.images.v2s2, { sync: true })
  assert.deepEqual((await c.listImages()).map((i) => i.name), [sb.images.busybox])
  await rejectsWith(c.deleteImage(sb.images.v2s2), NotFoundError)
  await rejectsWith(c.getImage(''), InvalidArgumentError)
  await c.close()
})

async function withDockerConfig(auths, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-docker-'))
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }))
  const saved = process.env.DOCKER_CONFIG
  process.env.DOCKER_CONFIG = dir
  try {
    await fn()
  } finally {
    if (saved === undefined) delete process.env.DOCKER_CONFIG
    else process.env.DOCKER_CONFIG = saved
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
