'use strict'
// RPC: version(), listImages() and listContainers() over 1,000 objects: sequential latency per
// call, process CPU per call and throughput of many calls in flight, for this package, for
// grpc-js + proto-loader, for `ctr` through execFile and (version() only) for raw tonic in Rust.
// Also load + connect time, each sample from a fresh process.

const path = require('node:path')
const { run, cpuMeter, pool } = require('../lib/procs.js')
const { summary } = require('../lib/stats.js')
const { binding } = require('../../lib/native.js')

const LIST_NS = 'bench-list'
const OBJECTS = 1000

/** Times `n` sequential awaited calls of fn: { samples (ms), cpuUs (total) }. */
async function sequential(fn, n) {
  const samples = new Array(n)
  const cpu = cpuMeter()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    samples[i] = performance.now() - t
  }
  return { samples, cpuUs: cpu.stop().total }
}

/** `n` calls with at most `limit` in flight: { wallMs, cpuUs }. */
async function concurrent(fn, n, limit = n) {
  const cpu = cpuMeter()
  const t = performance.now()
  await pool(Array.from({ length: n }, () => fn), limit)
  return { wallMs: performance.now() - t, cpuUs: cpu.stop().total }
}

function aggregate(parts) {
  const samples = parts.flatMap((p) => p.samples)
  const cpuUs = parts.reduce((a, p) => a + p.cpuUs, 0)
  return { ...summary(samples), cpuPerCallUs: cpuUs / samples.length, roundMedians: parts.map((p) => summary(p.samples).median) }
}

function aggregateFloor(parts) {
  return {
    ...summary(parts.flatMap((p) => p.samplesUs.map((us) => us / 1000))),
    cpuPerCallUs: parts.reduce((a, p) => a + p.cpuPerCallUs, 0) / parts.length,
    connectMs: summary(parts.map((p) => p.connectMs)).median,
    roundMedians: parts.map((p) => summary(p.samplesUs).median / 1000),
  }
}

/** Runs `fn` with this package's short calls sent over the tokio workers, as on Deno and Bun. */
async function overWorkers(fn) {
  binding.setThreadTransport(false)
  try {
    return await fn()
  } finally {
    binding.setThreadTransport(true)
  }
}

function aggregateConcurrent(parts, calls, limit) {
  const walls = parts.map((p) => p.wallMs)
  const wall = summary(walls).median
  return {
    calls,
    inFlight: limit,
    rounds: parts.length,
    wallMs: walls,
    medianWallMs: wall,
    callsPerSec: (calls / wall) * 1000,
    cpuPerCallUs: parts.reduce((a, p) => a + p.cpuUs, 0) / (calls * parts.length),
  }
}

/** 1,000 images (one pulled, the rest records pointing at its target) and 1,000 containers. */
async function populate(ctx) {
  const { sb, client, grpc, log } = ctx
  const ours = client.withNamespace(LIST_NS)
  const g = grpc.withNamespace(LIST_NS)
  const t0 = performance.now()
  const image = await ours.pull(sb.images.busybox)
  const { image: record } = await g.getImage({ name: image.name })
  await pool(Array.from({ length: OBJECTS - 1 }, (_, i) => () => g.createImage({
    image: { name: `bench.local/list/image-${String(i).padStart(4, '0')}:latest`, labels: {}, target: record.target },
  })), 32)
  const t1 = performance.now()
  await pool(Array.from({ length: OBJECTS }, (_, i) => () =>
    ours.createContainer(`bench-list-${String(i).padStart(4, '0')}`, { image: image.name, args: ['true'] })), 8)
  const t2 = performance.now()
  log(`  ${OBJECTS} images in ${((t1 - t0) / 1000).toFixed(1)} s (grpc-js Images.Create), ` +
    `${OBJECTS} containers in ${((t2 - t1) / 1000).toFixed(1)} s (createContainer, 8 in flight)`)
  return { imageName: image.name, imagesSec: (t1 - t0) / 1000, containersSec: (t2 - t1) / 1000 }
}

async function depopulate(ctx, imageName) {
  const { client, grpc, log } = ctx
  const ours = client.withNamespace(LIST_NS)
  const g = grpc.withNamespace(LIST_NS)
  const t0 = performance.now()
  const containers = await ours.listContainers()
  await pool(containers.map((c) => () => c.delete()), 8)
  const images = await ours.listImages()
  await pool(images.filter((i) => i.name !== imageName).map((i) => () => g.deleteImage({ name: i.name, sync: false })), 32)
  await ours.deleteImage(imageName, { sync: true })
  await client.deleteNamespace(LIST_NS)
  log(`  cleaned up ${containers.length} containers and ${images.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

/** Load + connect (+ first version() reply) from fresh processes, alternating. */
async function loadConnect(ctx, samples) {
  const { sb, vendor } = ctx
  const child = path.join(__dirname, '../children/load.js')
  const out = { ours: [], grpc: [], ctr: [] }
  for (let i = 0; i < samples; i++) {
    for (const which of ['ours', 'grpc']) {
      const { stdout } = await run(process.execPath, [child, which, sb.address, vendor])
      out[which].push(JSON.parse(stdout))
    }
    const t = performance.now()
    await run('ctr', ['-a', sb.address, 'version'])
    out.ctr.push({ processMs: performance.now() - t })
  }
  const pick = (list, key) => summary(list.map((s) => s[key]))
  return {
    samples,
    ours: { load: pick(out.ours, 'loadMs'), connect: pick(out.ours, 'connectMs'), firstCall: pick(out.ours, 'firstCallMs') },
    grpc: { load: pick(out.grpc, 'loadMs'), connect: pick(out.grpc, 'connectMs'), firstCall: pick(out.grpc, 'firstCallMs') },
    ctr: { process: pick(out.ctr, 'processMs') },
  }
}

async function benchRpc(ctx) {
  const { sb, client, grpc, quick, log, floor } = ctx
  // Many short rounds, alternating between the clients, so that drift in the machine's speed
  // (a VM's neighbours, frequency changes) hits every client alike.
  const P = quick
    ? { versionRounds: 6, version: 100, versionCtr: 3, listRounds: 3, list: 10, listCtr: 1, conc: 1000, concRounds: 1, ctrConc: 200,
      ctrLimit: 50, listConc: 50, listConcCtr: 10, listCtrLimit: 10, load: 4 }
    : { versionRounds: 20, version: 250, versionCtr: 10, listRounds: 10, list: 20, listCtr: 3, conc: 1000, concRounds: 3, ctrConc: 1000,
      ctrLimit: 50, listConc: 100, listConcCtr: 30, listCtrLimit: 10, load: 10 }
  const result = { params: P }

  log('rpc: populating 1,000 images and 1,000 containers')
  const setup = await populate(ctx)
  result.setup = setup
  const listOurs = client.withNamespace(LIST_NS)
  const listGrpc = grpc.withNamespace(LIST_NS)
  const ctrArgs = (...args) => ['-a', sb.address, '-n', LIST_NS, ...args]
  const lines = (s) => s.split('\n').filter(Boolean)

  const ops = {
    version: {
      ours: () => client.version(),
      grpc: () => grpc.version({}),
      ctr: () => run('ctr', ['-a', sb.address, 'version']),
      floor: ['version', 'default'],
      rounds: P.versionRounds,
      n: P.version, nCtr: P.versionCtr, conc: P.conc, concCtr: P.ctrConc, ctrLimit: P.ctrLimit,
    },
    listImages: {
      ours: () => listOurs.listImages(),
      grpc: () => listGrpc.listImages({}),
      // The old way: the table of `ctr images ls` (which also sums every image's size), parsed.
      ctr: async () => lines((await run('ctr', ctrArgs('images', 'ls'))).stdout).slice(1).map((l) => l.split(/\s+/)),
      floor: ['images', LIST_NS],
      rounds: P.listRounds,
      n: P.list, nCtr: P.listCtr, conc: P.listConc, concCtr: P.listConcCtr, ctrLimit: P.listCtrLimit,
      count: { ours: (r) => r.length, grpc: (r) => r.images.length, ctr: (r) => r.length },
    },
    listContainers: {
      ours: () => listOurs.listContainers(),
      grpc: () => listGrpc.listContainers({}),
      ctr: async () => lines((await run('ctr', ctrArgs('containers', 'ls'))).stdout).slice(1).map((l) => l.split(/\s+/)),
      floor: ['containers', LIST_NS],
      rounds: P.listRounds,
      n: P.list, nCtr: P.listCtr, conc: P.listConc, concCtr: P.listConcCtr, ctrLimit: P.listCtrLimit,
      count: { ours: (r) => r.length, grpc: (r) => r.containers.length, ctr: (r) => r.length },
    },
  }

  for (const [name, op] of Object.entries(ops)) {
    log(`rpc: ${name}`)
    if (op.count) {
      for (const which of ['ours', 'grpc', 'ctr']) {
        const got = op.count[which](await op[which]())
        if (got !== OBJECTS) throw new Error(`${name} via ${which} returned ${got} objects, expected ${OBJECTS}`)
      }
    }
    // Warm-up: JIT, connection, allocator. grpc-js keeps getting faster for the first few
    // thousand version() calls (V8 tiering up its call path), so it gets 5,000 before measuring.
    const warmup = name === 'version' ? (quick ? 2000 : 5000) : 20
    await sequential(op.ours, warmup)
    await sequential(op.grpc, warmup)
    await sequential(op.ctr, 2)
    // For version() also the two paths compared: this package's calls over the tokio workers
    // (how every call went before the JS-thread path), and tonic on a multi-thread runtime.
    const paths = name === 'version'
    const parts = { ours: [], grpc: [], ctr: [], floor: [], oursWorkers: [], floorMulti: [] }
    for (let r = 0; r < op.rounds; r++) {
      parts.ours.push(await sequential(op.ours, op.n))
      if (paths) parts.oursWorkers.push(await overWorkers(() => sequential(op.ours, op.n)))
      parts.grpc.push(await sequential(op.grpc, op.n))
      parts.ctr.push(await sequential(op.ctr, op.nCtr))
      const f = await floor(...op.floor, op.n, 0)
      if (op.count && f.objects !== OBJECTS) throw new Error(`${name} via tonic returned ${f.objects} objects`)
      parts.floor.push(f)
      if (paths) parts.floorMulti.push(await floor(...op.floor, op.n, 0, 'multi-thread'))
    }
    const seq = {
      ours: aggregate(parts.ours),
      floor: aggregateFloor(parts.floor),
      grpc: aggregate(parts.grpc),
      ctr: aggregate(parts.ctr),
    }
    // Ratios within each round (robust against drift between rounds): napi ÷ tonic, grpc-js ÷ napi.
    seq.roundRatios = {
      oursOverFloor: summary(seq.ours.roundMedians.map((o, i) => o / seq.floor.roundMedians[i])).median,
      grpcOverOurs: summary(seq.grpc.roundMedians.map((g, i) => g / seq.ours.roundMedians[i])).median,
    }
    if (paths) {
      seq.oursWorkers = aggregate(parts.oursWorkers)
      seq.floorMulti = aggregateFloor(parts.floorMulti)
      seq.roundRatios.oursWorkersOverFloor = summary(seq.oursWorkers.roundMedians.map((o, i) => o / seq.floor.roundMedians[i])).median
      seq.roundRatios.floorMultiOverFloor = summary(seq.floorMulti.roundMedians.map((o, i) => o / seq.floor.roundMedians[i])).median
      seq.roundRatios.oursOverFloorMulti = summary(seq.ours.roundMedians.map((o, i) => o / seq.floorMulti.roundMedians[i])).median
    }
    const conc = { ours: [], grpc: [], ctr: [], floor: [] }
    for (let r = 0; r < P.concRounds; r++) {
      conc.ours.push(await concurrent(op.ours, op.conc))
      conc.grpc.push(await concurrent(op.grpc, op.conc))
      // Many calls in flight: tonic does best with its connection on worker threads.
      const f = await floor(...op.floor, 0, op.conc, 'multi-thread')
      conc.floor.push({ wallMs: f.concurrentMs, cpuUs: f.concurrentCpuPerCallUs * op.conc })
    }
    // ctr: one round (every call is a process), with a cap on processes in flight.
    conc.ctr.push(await concurrent(op.ctr, op.concCtr, op.ctrLimit))
    const throughput = {
      ours: aggregateConcurrent(conc.ours, op.conc, op.conc),
      floor: aggregateConcurrent(conc.floor, op.conc, op.conc),
      grpc: aggregateConcurrent(conc.grpc, op.conc, op.conc),
      ctr: aggregateConcurrent(conc.ctr, op.concCtr, op.ctrLimit),
    }
    result[name] = { sequential: seq, concurrent: throughput }
  }

  log('rpc: load + connect (fresh processes)')
  result.load = await loadConnect(ctx, P.load)

  log('rpc: cleaning up')
  await depopulate(ctx, setup.imageName)
  return result
}

module.exports = { benchRpc }
