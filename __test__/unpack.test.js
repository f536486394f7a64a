'use strict'
// Pull, part 2: unpack into snapshots (checked by running the images with ctr), GC safety,
// progress, abort, and the Image methods.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const { Client, CancelledError, InvalidArgumentError, NotFoundError, FailedPreconditionError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const lines = (text) => text.split('\n').filter(Boolean)
const run = (ns, ref, ...cmd) => ctr(ns, 'run', '--rm', ref, uniqueName('c'), ...cmd)
const snapshotKeys = (ns) => lines(ctr(ns, 'snapshots', 'ls')).slice(1).map((l) => l.split(/\s+/)[0])
const contentDigests = (ns) => new Set(lines(ctr(ns, 'content', 'ls', '-q')))

async function client() {
  return Client.connect({ address: sb.address, namespace: uniqueName('unpack') })
}

/** After a failed or aborted pull: no lease, ingest, snapshot, image, nor the image's blobs. */
function assertNothingLeft(ns, digests = []) {
  assert.deepEqual(lines(ctr(ns, 'leases', 'ls', '-q')), [], 'leases left')
  assert.deepEqual(lines(ctr(ns, 'content', 'active')).slice(1), [], 'ingests left')
  assert.deepEqual(snapshotKeys(ns), [], 'snapshots left')
  assert.deepEqual(lines(ctr(ns, 'images', 'ls', '-q')), [], 'images left')
  const present = contentDigests(ns)
  for (const d of digests) assert.ok(!present.has(d), `blob ${d} left`)
}

/** The ELF machine of /bin/busybox inside a committed snapshot, read through a ctr view mount. */
function busyboxMachine(ns, chainId) {
  const key = uniqueName('view')
  const mounts = JSON.parse(ctr(ns, 'snapshots', 'view', '--mounts', key, chainId))
  try {
    // A view of a single-layer chain is a read-only bind mount of that layer's directory.
    assert.equal(mounts.length, 1)
    assert.equal(mounts[0].Type, 'bind', JSON.stringify(mounts))
    const dir = mounts[0].Source
    const header = Buffer.alloc(20)
    const fd = fs.openSync(`${dir}/bin/busybox`, 'r')
    fs.readSync(fd, header, 0, 20, 0)
    fs.closeSync(fd)
    return header.readUInt16LE(18)
  } finally {
    // ctr makes the view under its own short lease, so the collector may have removed it already;
    // the bind source is the committed layer's directory, which stays.
    try { ctr(ns, 'snapshots', 'rm', key) } catch {}
  }
}

test('every fixture pulls, unpacks and runs with ctr', async () => {
  const c = await client()
  const ns = c.namespace
  for (const name of ['busybox', 'v2s2', 'multiarch']) {
    const img = await c.pull(sb.images[name])
    assert.equal(await img.isUnpacked(), true)
    assert.match(run(ns, sb.images[name], 'echo', `hello from ${name}`), new RegExp(`hello from ${name}`))
  }
  await c.pull(sb.images.multilayer)
  assert.equal(run(ns, sb.images.multilayer, 'cat', '/data/keep.txt', '/data/layer3.txt'), 'keep\nlayer3\n')
  // The third layer's whiteout really deleted the second layer's file.
  assert.equal(run(ns, sb.images.multilayer, 'sh', '-c', 'test -e /data/gone.txt && echo present || echo gone'), 'gone\n')
  assert.deepEqual(lines(ctr(ns, 'leases', 'ls', '-q')), [])
  assert.ok(!snapshotKeys(ns).some((k) => k.startsWith('extract-')))
  await c.close()
})

test('an arm64 pull unpacks the arm64 layer', async () => {
  const c = await client()
  const arm64 = sb.fixtures.multiarch.platforms.find((p) => p.architecture === 'arm64')
  await c.pull(sb.images.multiarch, { platform: 'linux/arm64' })
  assert.deepEqual(snapshotKeys(c.namespace), [arm64.layers[0].diffId])
  assert.equal(busyboxMachine(c.namespace, arm64.layers[0].diffId), 183, 'not an aarch64 ELF') // EM_AARCH64
  const amd64 = sb.fixtures.multiarch.platforms.find((p) => p.architecture === 'amd64')
  const other = c.withNamespace(uniqueName('unpack'))
  await other.pull(sb.images.multiarch)
  assert.equal(busyboxMachine(other.namespace, amd64.layers[0].diffId), 62, 'not an x86-64 ELF') // EM_X86_64
  await c.close()
})

test('GC safety: collecting garbage after deleting another image keeps the first one whole and runnable', async () => {
  const c = await client()
  const ns = c.namespace
  const kept = sb.images.busybox
  await c.pull(kept)
  await c.pull(sb.images.multilayer)
  const dropped = sb.fixtures.multilayer.platforms[0].layers[1].digest
  assert.ok(contentDigests(ns).has(dropped))
  await c.deleteImage(sb.images.multilayer, { sync: true })
  // The collector really ran: what only the deleted image referenced is gone...
  assert.ok(!contentDigests(ns).has(dropped), 'the deleted image\'s own layer survived a synchronous GC')
  // ...and the kept image is complete, unpacked and runs.
  const row = lines(ctr(ns, 'images', 'check')).find((l) => l.startsWith(kept + ' '))
  assert.match(row, /complete/)
  const img = await c.getImage(kept)
  assert.equal(await img.isUnpacked(), true)
  assert.deepEqual(snapshotKeys(ns), [sb.fixtures.busybox.platforms[0].layers[0].diffId])
  assert.equal(run(ns, kept, 'echo', 'still here'), 'still here\n')
  await c.close()
})

test('concurrent unpacks of the same image in one namespace both succeed', async () => {
  const c = await client()
  const ref = sb.images.multilayer
  await Promise.all([c.pull(ref), c.pull(ref), c.pull(ref)])
  const keys = snapshotKeys(c.namespace)
  assert.equal(keys.length, 3)
  assert.ok(!keys.some((k) => k.startsWith('extract-')))
  assert.equal(run(c.namespace, ref, 'cat', '/data/keep.txt'), 'keep\n')
  await c.close()
})

test('Image.config, size, unpack and isUnpacked', async () => {
  const c = await client()
  const fixture = sb.fixtures.multilayer
  const img = await c.pull(fixture.ref, { unpack: false })
  assert.equal(await img.isUnpacked(), false)
  const config = await img.config()
  assert.equal(config.architecture, 'amd64')
  assert.equal(config.os, 'linux')
  assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: fixture.platforms[0].layers.map((l) => l.diffId) })
  assert.deepEqual(config.config.Cmd, ['sh'])
  const platform = fixture.platforms[0]
  const head = await fetch(`http://${sb.registry}/v2/multilayer/blobs/${platform.configDigest}`, { method: 'HEAD' })
  const configSize = Number(head.headers.get('content-length'))
  assert.ok(configSize > 0)
  assert.equal(await img.size(), img.target.size + configSize + platform.layers.reduce((n, l) => n + l.size, 0))
  await img.unpack()
  assert.equal(await img.isUnpacked(), true)
  assert.equal(run(c.namespace, fixture.ref, 'cat', '/data/layer3.txt'), 'layer3\n')
  assert.equal(await img.isUnpacked('native'), false)

  const multi = await c.pull(sb.images.multiarch, { unpack: false })
  // Only the host's platform was pulled: asking for another names what the store has.
  await rejectsWith(multi.config({ platform: 'linux/arm64' }), FailedPreconditionError, /no content for platform linux\/arm64.*pulled for linux\/amd64/)
  await c.pull(sb.images.multiarch, { unpack: false, platform: 'linux/arm64' })
  assert.equal((await multi.config({ platform: 'linux/arm64' })).architecture, 'arm64')
  assert.equal((await multi.config()).architecture, 'amd64')
  await rejectsWith(multi.config({ platform: 'linux/s390x' }), NotFoundError, /s390x/)
  await rejectsWith(multi.config({ platform: 'bad' }), InvalidArgumentError, /platform/)
  await rejectsWith(img.unpack(''), InvalidArgumentError, /snapshotter/)
  await c.deleteImage(fixture.ref)
  await rejectsWith(img.config(), NotFoundError)
  await c.close()
})

/** Pulls the large fixture, aborting when `when(report)` first holds; returns timing facts. */
async function abortedPull(c, when) {
  const controller = new AbortController()
  let abortedAt = 0
  const pending = c.pull(sb.images.large, {
    signal: controller.signal,
    onProgress: (p) => {
      if (!abortedAt && when(p)) {
        abortedAt = Date.now()
        controller.abort()
      }
    },
  })
  await rejectsWith(pending, CancelledError)
  assert.ok(abortedAt > 0, 'the abort condition never held')
  return { afterAbortMs: Date.now() - abortedAt }
}

const largeBlobs = () => {
  const p = sb.fixtures.large.platforms[0]
  return [p.configDigest, p.manifestDigest, ...p.layers.slice(1).map((l) => l.digest)]
}

test('aborting mid-download rejects promptly with CancelledError and leaves nothing behind', async () => {
  const c = await client()
  const { afterAbortMs } = await abortedPull(c, (p) => p.phase === 'downloading' && p.downloadedBytes > 8 << 20)
  assert.ok(afterAbortMs < 10000, `took ${afterAbortMs} ms after the abort`)
  assertNothingLeft(c.namespace, largeBlobs())
  await c.close()
})

test('aborting mid-unpack removes half-made and committed snapshots too', async () => {
  const c = await client()
  await abortedPull(c, (p) => p.layers.some((l) => l.status === 'unpacked') && p.layers.some((l) => l.status !== 'unpacked'))
  assertNothingLeft(c.namespace, largeBlobs())
  await c.close()
})

test('progress: phases in order, bytes never going back, updated every MiB, ending done and complete', async () => {
  const c = await client()
  const reports = []
  const img = await c.pull(sb.images.large, { onProgress: (p) => reports.push(structuredClone(p)) })
  // Other suites pull the same fixture into the daemon's shared content store: layers found there
  // are linked ('exists') at once, so only freshly downloaded bytes need a report every ~MiB.
  const linked = new Set(reports.flatMap((r) => r.layers.filter((l) => l.status === 'exists').map((l) => l.digest)))
  const freshBytes = reports.at(-1).layers.filter((l) => !linked.has(l.digest)).reduce((n, l) => n + l.size, 0)
  assert.ok(reports.length > 3 && reports.length >= Math.floor(freshBytes / (2 << 20)), `${reports.length} reports for ${freshBytes} fresh bytes`)
  const order = ['resolving', 'downloading', 'unpacking', 'done']
  for (let i = 1; i < reports.length; i++) {
    const [a, b] = [reports[i - 1], reports[i]]
    assert.ok(order.indexOf(b.phase) >= order.indexOf(a.phase), `${a.phase} -> ${b.phase}`)
    assert.ok(b.downloadedBytes >= a.downloadedBytes, 'downloadedBytes went back')
    // Fresh layers arrive in chunks: no report skips more than about a MiB of them. A layer found
    // in the store meanwhile (another test's pull of the same fixture shares the daemon's content)
    // counts at once.
    const fresh = b.layers.reduce((n, l, j) => n + (l.status === 'exists' ? 0 : l.downloaded - (a.layers[j]?.downloaded ?? 0)), 0)
    if (b.phase === 'downloading') assert.ok(fresh <= 2 << 20, `jump of ${fresh}`)
  }
  const last = reports.at(-1)
  assert.equal(last.phase, 'done')
  assert.equal(reports.filter((r) => r.phase === 'done').length, 1)
  assert.equal(last.ref, sb.images.large)
  assert.equal(last.downloadedBytes, last.totalBytes)
  assert.equal(last.totalBytes, await img.size())
  const layers = sb.fixtures.large.platforms[0].layers
  assert.deepEqual(last.layers.map((l) => l.digest), layers.map((l) => l.digest))
  for (const l of last.layers) {
    assert.equal(l.status, 'unpacked')
    assert.equal(l.downloaded, l.size)
    assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip')
  }
  // A layer is unpacked while later ones still download.
  assert.ok(reports.some((r) => r.phase === 'downloading' && r.layers.some((l) => l.status === 'unpacking' || l.status === 'unpacked')),
    'no unpacking overlapped the downloads')
  assert.equal(run(c.namespace, sb.images.large, 'sh', '-c', 'wc -c < /data/blob3.bin'), '33554432\n')

  // Pulled again, everything exists already and still ends with a complete 'done'.
  const again = []
  await c.withNamespace(uniqueName('unpack')).pull(sb.images.large, { onProgress: (p) => again.push(p) })
  assert.ok(again.at(-1).layers.every((l) => l.status === 'unpacked'))
  assert.equal(again.at(-1).downloadedBytes, again.at(-1).totalBytes)
  await c.close()
})

test('a throwing onProgress does not break the pull', async () => {
  const c = await client()
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const img = await c.pull(sb.images.busybox, { onProgress: () => { throw new Error('callback bug') } })
    assert.equal(await img.isUnpacked(), true)
    await new Promise((r) => setImmediate(r))
    assert.ok(warnings.some((w) => /callback bug/.test(w.message)))
  } finally {
    process.off('warning', onWarning)
  }
  await rejectsWith(c.pull(sb.images.busybox, { onProgress: 'nope' }), InvalidArgumentError, /onProgress/)
  await c.close()
})
