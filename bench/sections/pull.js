'use strict'
// Pull: an image of four ~48 MiB incompressible gzip layers from the loopback registry, with
// unpack (overlayfs), from a cold content store, this package vs `ctr images pull` (the Go
// client), alternating. Before every run the image is deleted with a synchronous garbage
// collection and the bench checks that no layer blob and no snapshot is left anywhere. Then the
// peak RSS of the same pull in a fresh process, against ctr's and a bare node process's.

const fs = require('node:fs')
const path = require('node:path')
const { run } = require('../lib/procs.js')
const { summary, median } = require('../lib/stats.js')
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
  // Peak memory: a fresh node process that connects and pulls (bench/children/pull-memory.js,
  // VmHWM), `ctr images pull` (its maximum RSS, from GNU time), and a bare node process (VmHWM);
  // the pull's own share is the first minus the last. Not timed: the runs above are the timing.
  const memoryRuns = quick ? 1 : 3
  const child = path.join(__dirname, '../children/pull-memory.js')
  const peaks = { ours: [], ctr: [], bare: [], oursConnected: [] }
  const checkPulled = async (which) => {
    const pulled = await ns.getImage(image.ref)
    if (pulled.target.digest !== image.manifestDigest) throw new Error(`${which} pulled ${pulled.target.digest}`)
  }
  const measurers = {
    ours: async () => {
      await makeCold()
      const out = JSON.parse((await run(process.execPath, [child, 'ours', sb.address, NS, image.ref])).stdout)
      await checkPulled('ours')
      peaks.oursConnected.push(out.connected.peakMiB)
      return out.peakMiB
    },
    ctr: async () => {
      await makeCold()
      const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss-kib %M', 'ctr', '-a', sb.address, '-n', NS, 'images', 'pull', '--plain-http', image.ref])
      await checkPulled('ctr')
      return Number(stderr.match(/^maxrss-kib (\d+)$/m)[1]) / 1024
    },
    bare: async () => JSON.parse((await run(process.execPath, [child, 'bare'])).stdout).peakMiB,
  }
  for (let i = 0; i < memoryRuns; i++) {
    const order = i % 2 === 0 ? ['ours', 'ctr', 'bare'] : ['bare', 'ctr', 'ours']
    for (const which of order) {
      peaks[which].push(await measurers[which]())
      log(`  ${which.padEnd(4)} peak RSS ${peaks[which].at(-1).toFixed(1)} MiB`)
    }
  }
  await makeCold()
  const peakRss = {
    runs: memoryRuns,
    oursMiB: median(peaks.ours), ctrMiB: median(peaks.ctr), bareNodeMiB: median(peaks.bare),
    // After loading the addon and connecting, before the pull.
    oursConnectedMiB: median(peaks.oursConnected),
    pullOwnMiB: median(peaks.ours) - median(peaks.bare),
    samplesMiB: peaks,
  }
  const mib = image.totalBytes / 2 ** 20
  const describe = (list) => ({ ...summary(list), runsMs: list, mibPerSec: mib / (summary(list).median / 1000) })
  return {
    image, runs, warmup, ours: describe(times.ours), ctr: describe(times.ctr),
    downloadOnly: { runs: fetchRuns, ours: describe(fetchTimes.ours), ctr: describe(fetchTimes.ctr) },
    peakRss,
  }
}

module.exports = { benchPull }
