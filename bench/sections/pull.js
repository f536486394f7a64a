'use strict'
// Pull: an image of four ~48 MiB incompressible gzip layers from the loopback registry, with
// unpack (overlayfs), from a cold content store, this package vs `ctr images pull` (the Go
// client), alternating. Before every run the image is deleted with a synchronous garbage
// collection and the bench checks that no layer blob and no snapshot is left anywhere.

const fs = require('node:fs')
const path = require('node:path')
const { run } = require('../lib/procs.js')
const { summary } = require('../lib/stats.js')
const { pushPullFixture } = require('../lib/pull-fixture.js')

const NS = 'bench-pull'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function benchPull(ctx) {
  const { sb, client, quick, log } = ctx
  const runs = quick ? 2 : 7
  const warmup = quick ? 0 : 1
  log('pull: building and pushing the 4 x 48 MiB image')
  const t0 = performance.now()
  const image = await pushPullFixture(path.join(sb.dir, 'bench'), sb.registry)
  log(`  pushed ${image.ref} (${(image.totalBytes / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const ns = client.withNamespace(NS)
  const blobs = path.join(sb.dir, 'main/root/io.containerd.content.v1.content/blobs/sha256')

  async function makeCold() {
    try {
      await ns.deleteImage(image.ref, { sync: true })
    } catch (err) {
      if (err.code !== 'NOT_FOUND') throw err
    }
    for (let i = 0; ; i++) {
      const left = image.layers.filter((l) => fs.existsSync(path.join(blobs, l.digest.slice(7))))
      const snapshots = (await run('ctr', ['-a', sb.address, '-n', NS, 'snapshots', 'ls'])).stdout.split('\n').filter(Boolean).slice(1)
      const ingests = (await run('ctr', ['-a', sb.address, '-n', NS, 'content', 'active'])).stdout.split('\n').filter(Boolean).slice(1)
      if (left.length === 0 && snapshots.length === 0 && ingests.length === 0) {
        // Start every run with no dirty pages from the previous one waiting to be written back.
        await run('sync', [])
        return
      }
      if (i === 50) throw new Error(`content store not cold: ${left.length} layer blobs, ${snapshots.length} snapshots, ${ingests.length} ingests left`)
      await sleep(100)
    }
  }

  const pullers = {
    ours: () => ns.pull(image.ref),
    // ctr 1.6 unpacks into the default snapshotter (overlayfs) as part of `images pull`.
    ctr: () => run('ctr', ['-a', sb.address, '-n', NS, 'images', 'pull', '--plain-http', image.ref]),
  }
  const times = { ours: [], ctr: [] }
  for (let i = 0; i < warmup + runs; i++) {
    // Alternate which goes first in each pair.
    const order = i % 2 === 0 ? ['ours', 'ctr'] : ['ctr', 'ours']
    for (const which of order) {
      await makeCold()
      const t = performance.now()
      await pullers[which]()
      const ms = performance.now() - t
      // Both must have pulled and unpacked the whole image.
      const pulled = await ns.getImage(image.ref)
      if (pulled.target.digest !== image.manifestDigest) throw new Error(`${which} pulled ${pulled.target.digest}`)
      if (!(await pulled.isUnpacked('overlayfs'))) throw new Error(`${which} did not unpack the image`)
      if (i >= warmup) times[which].push(ms)
      log(`  ${which.padEnd(4)} ${(ms / 1000).toFixed(2)} s${i < warmup ? ' (warm-up)' : ''}`)
    }
  }
  // For context: the download alone, without unpacking (ctr images pull downloads everything,
  // then unpacks; this package unpacks each layer as soon as it and its parents are in).
  const fetchRuns = quick ? 1 : 3
  const fetchers = {
    ours: () => ns.pull(image.ref, { unpack: false }),
    ctr: () => run('ctr', ['-a', sb.address, '-n', NS, 'content', 'fetch', '--plain-http', image.ref]),
  }
  const fetchTimes = { ours: [], ctr: [] }
  for (let i = 0; i < fetchRuns; i++) {
    const order = i % 2 === 0 ? ['ours', 'ctr'] : ['ctr', 'ours']
    for (const which of order) {
      await makeCold()
      const t = performance.now()
      await fetchers[which]()
      const ms = performance.now() - t
      const missing = image.layers.filter((l) => !fs.existsSync(path.join(blobs, l.digest.slice(7))))
      if (missing.length) throw new Error(`${which} fetch left ${missing.length} layers out`)
      fetchTimes[which].push(ms)
      log(`  ${which.padEnd(4)} ${(ms / 1000).toFixed(2)} s (download only)`)
    }
  }
  await makeCold()
  const mib = image.totalBytes / 2 ** 20
  const describe = (list) => ({ ...summary(list), runsMs: list, mibPerSec: mib / (summary(list).median / 1000) })
  return {
    image, runs, warmup, ours: describe(times.ours), ctr: describe(times.ctr),
    downloadOnly: { runs: fetchRuns, ours: describe(fetchTimes.ours), ctr: describe(fetchTimes.ctr) },
  }
}

module.exports = { benchPull }
