'use strict'
// The markdown tables and the target check, from bench/results.json's data.

const { num, ratio, markdownTable } = require('./stats.js')

const us = (ms) => (ms == null ? NaN : ms * 1000)

function rpcTable(rpc) {
  const rows = []
  const speed = (other, ours) => ratio(other / ours) // >1: containerd-napi faster / cheaper
  const ops = [
    ['version', 'version()', 'µs', (ms) => ms * 1000],
    ['listImages', 'listImages() of 1,000', 'ms', (ms) => ms],
    ['listContainers', 'listContainers() of 1,000', 'ms', (ms) => ms],
  ]
  for (const [key, label, unit, conv] of ops) {
    const op = rpc[key]
    if (!op) continue
    const s = op.sequential
    const c = op.concurrent
    const who = ['ours', 'floor', 'grpc', 'ctr']
    const line = (what, pick, fmt, better) => {
      const v = Object.fromEntries(who.map((w) => [w, pick(w)]))
      rows.push([`${label} ${what}`, ...who.map((w) => fmt(v[w])),
        ...['floor', 'grpc', 'ctr'].map((w) => better === 'higher' ? speed(v.ours, v[w]) : speed(v[w], v.ours))])
    }
    line(`median (${unit})`, (w) => conv(s[w].median), num)
    line(`p99 (${unit})`, (w) => conv(s[w].p99), num)
    line(`CPU per call (${unit})`, (w) => conv(s[w].cpuPerCallUs / 1000), num)
    line(`×${c.ours.calls} concurrent (calls/s)¹`, (w) => c[w].callsPerSec, num, 'higher')
    line(`CPU per call, concurrent (${unit})`, (w) => conv(c[w].cpuPerCallUs / 1000), num)
  }
  const ld = rpc.load
  if (ld) {
    rows.push(['load (require + protos) (ms)²', num(ld.ours.load.median), '—', num(ld.grpc.load.median), '—', '—', speed(ld.grpc.load.median, ld.ours.load.median), '—'])
    rows.push(['load + connect (ms)²', num(ld.ours.connect.median), num(rpc.version?.sequential.floor?.connectMs), num(ld.grpc.connect.median),
      num(ld.ctr.process.median), '—', speed(ld.grpc.connect.median, ld.ours.connect.median), speed(ld.ctr.process.median, ld.ours.connect.median)])
    rows.push(['load + connect + first version() (ms)²', num(ld.ours.firstCall.median), '—', num(ld.grpc.firstCall.median),
      num(ld.ctr.process.median), '—', speed(ld.grpc.firstCall.median, ld.ours.firstCall.median), speed(ld.ctr.process.median, ld.ours.firstCall.median)])
  }
  const head = ['RPC', 'containerd-napi', 'raw tonic (Rust)', 'grpc-js + proto-loader', 'ctr via execFile',
    '× vs tonic', '× vs grpc-js', '× vs ctr']
  const c = rpc.version?.concurrent
  const li = rpc.listImages?.concurrent
  const notes = [
    '',
    '"× vs X": how many times faster (or cheaper in CPU) containerd-napi is than X; < 1x means slower.',
    `¹ containerd-napi, tonic and grpc-js: all calls in flight at once (median of ${c ? c.ours.rounds : '?'} rounds). ` +
      `ctr: ${c ? c.ctr.calls : '?'} version / ${li ? li.ctr.calls : '?'} list processes with at most ${c ? c.ctr.inFlight : '?'} / ${li ? li.ctr.inFlight : '?'} running at once (one process per call; 1,000 at once would exhaust memory).`,
    `² median of ${ld ? ld.samples : '?'} fresh processes, measured from the first line of the child script (node's own start-up excluded); ` +
      'the ctr column is the whole `ctr version` process (it loads and connects on every call). ' +
      'The tonic column is the Rust floor\'s channel connect time alone.',
  ]
  return markdownTable(head, rows) + '\n' + notes.join('\n')
}

/** version(): the JS-thread path and the worker path of this package against tonic's two runtimes. */
function pathsTable(rpc) {
  const s = rpc.version?.sequential
  if (!s?.oursWorkers) return null
  const rr = s.roundRatios
  const row = (label, v, within) => [label, num(us(v.median)), num(us(v.p99)), num(v.cpuPerCallUs),
    ratio(v.median / s.floor.median), within == null ? '—' : ratio(within), ratio(v.cpuPerCallUs / s.floor.cpuPerCallUs)]
  return markdownTable(['version(), one call after another', 'median (µs)', 'p99 (µs)', 'CPU per call (µs)',
    '÷ tonic current-thread (median)', '(within rounds)', 'CPU ÷ tonic current-thread'], [
    row('containerd-napi, on the JS thread (Node\'s default)', s.ours, rr.oursOverFloor),
    row('containerd-napi, over the tokio workers (Deno, Bun; Node before)', s.oursWorkers, rr.oursWorkersOverFloor),
    row('tonic, current-thread runtime (the floor)', s.floor, 1),
    row('tonic, multi-thread runtime (#[tokio::main])', s.floorMulti, rr.floorMultiOverFloor),
  ])
}

function lifecycleTable(results) {
  const rows = []
  const rel = (ours, ctr) => ratio(ours / ctr)
  const p = results.pull
  if (p) {
    rows.push([`pull + unpack, 4 × 48 MiB, cold, median of ${p.runs} (s)`, num(p.ours.median / 1000), num(p.ctr.median / 1000), rel(p.ours.median, p.ctr.median)])
    rows.push(['pull + unpack, slowest run (s)', num(p.ours.max / 1000), num(p.ctr.max / 1000), rel(p.ours.max, p.ctr.max)])
    rows.push(['pull + unpack throughput, median (MiB/s)', num(p.ours.mibPerSec), num(p.ctr.mibPerSec), rel(p.ctr.mibPerSec, p.ours.mibPerSec)])
    const d = p.downloadOnly
    if (d) {
      rows.push([`download only, no unpack (pull({ unpack: false }) vs ctr content fetch), median of ${d.runs} (s)`,
        num(d.ours.median / 1000), num(d.ctr.median / 1000), rel(d.ours.median, d.ctr.median)])
    }
    const m = p.peakRss
    if (m) {
      rows.push([`pull + unpack peak RSS, fresh process, median of ${m.runs} (MiB)`, num(m.oursMiB), num(m.ctrMiB), rel(m.oursMiB, m.ctrMiB)])
      rows.push(['pull\'s own peak RSS = napi − bare node (MiB)',
        `${num(m.pullOwnMiB)} (bare node ${num(m.bareNodeMiB)}; loaded + connected ${num(m.oursConnectedMiB)})`, '—', '—'])
    }
  }
  const r = results.run
  if (r) {
    rows.push([`run(['true']) vs ctr run --rm, median of ${r.runs} (ms)`, num(r.ours.median), num(r.ctr.median), rel(r.ours.median, r.ctr.median)])
    rows.push(['run latency p99 (ms)', num(r.ours.p99), num(r.ctr.p99), rel(r.ours.p99, r.ctr.p99)])
  }
  const c = results.concurrency
  if (c) {
    rows.push([`${c.width} concurrent runs, wall time, median of ${c.rounds} (s)`, num(c.ours.wall.median / 1000), num(c.ctr.wall.median / 1000),
      rel(c.ours.wall.median, c.ctr.wall.median)])
    rows.push([`${c.width} concurrent runs, per-run completion median / p99 (s)`,
      `${num(c.ours.perRun.median / 1000)} / ${num(c.ours.perRun.p99 / 1000)}`,
      `${num(c.ctr.perRun.median / 1000)} / ${num(c.ctr.perRun.p99 / 1000)}`, rel(c.ours.perRun.median, c.ctr.perRun.median)])
  }
  if (rows.length === 0) return null
  return markdownTable(['Pull and run', 'containerd-napi', 'ctr (Go client)', 'napi ÷ ctr (time or memory; < 1 is better)'], rows)
}

function memoryTable(m) {
  if (!m) return null
  const labels = [...new Set([...m.ours, ...m.grpc].map((s) => s.label))]
  const row = (name, samples, key = 'rssMiB') => [name, ...labels.map((l) => {
    const s = samples.find((x) => x.label === l)
    return s && s[key] !== undefined ? num(s[key]) : '—'
  })]
  const rows = [row('containerd-napi', m.ours), row('grpc-js + proto-loader', m.grpc),
    row('containerd-napi: anonymous (RssAnon)', m.ours, 'anonMiB'), row('containerd-napi: file-backed (RssFile)', m.ours, 'fileMiB'),
    row('grpc-js: anonymous (RssAnon)', m.grpc, 'anonMiB')]
  return markdownTable(['RSS (MiB), fresh process', ...labels], rows) +
    `\n\ncontainerd-napi RSS growth: ${num(m.growthMiB.calls)} MiB over ${m.calls.toLocaleString('en-US')} version() calls, ` +
    `${num(m.growthMiB.runs)} MiB over ${m.runs} run() cycles, ${num(m.growthMiB.total)} MiB in all; ` +
    `${num(m.growthMiB.afterWarmup)} MiB from the 1,000th call to the end (two full GCs before each sample). ` +
    (m.growthMiB.anon === undefined ? '' : `Of the growth in all, ${num(m.growthMiB.anon)} MiB is anonymous memory (allocations) and ` +
      `${num(m.growthMiB.file)} MiB file-backed pages (node's and the addon's code, paged in as V8 optimises hot paths).`)
}

function networkTable(n) {
  if (!n) return null
  const phases = [['create', 'createContainer()'], ['start', 'newTask() + start()'], ['stop', 'kill + wait + delete task'], ['remove', 'container.delete()']]
  const cell = (s) => `${num(s.median)} (${num(s.min)}–${num(s.max)})`
  const rows = [[`whole cycle, ${n.rounds} rounds`, cell(n.none.total), cell(n.bridge.total), ratio(n.ratio.median)]]
  for (const [key, label] of phases) rows.push([label, cell(n.none[key]), cell(n.bridge[key]), ratio(n.bridge[key].median / n.none[key].median)])
  const nerd = n.nerdctl.available
    ? `nerdctl run -d -p + rm -f: ${cell(n.nerdctl.total)} ms (run ${num(n.nerdctl.run.median)}, rm ${num(n.nerdctl.rm.median)}); bridge ÷ nerdctl ${ratio(n.ratio.bridgeVsNerdctl)}.`
    : `nerdctl not measured: ${n.nerdctl.reason}.`
  return markdownTable(['Container life cycle (ms), median (min–max)', 'no network', "'bridge' + 1 published port", 'bridge ÷ none'], rows) +
    `

Within rounds, bridge ÷ none: ${ratio(n.ratio.withinRounds)} (median of the per-round ratios). ` +
    `The published port served the fixture's page: ${n.portServed ? 'yes' : 'no'}. ${nerd}`
}

function imagesTable(im) {
  if (!im) return null
  const s = (ms) => num(ms / 1000)
  const rows = []
  const labels = { plain: 'plain registry (holds `large`: mounts possible)', basic: 'basic-auth registry (no large layers)' }
  for (const [where, p] of Object.entries(im.push)) {
    rows.push([`push to ${labels[where]}, fresh repo, median of ${p.rounds} (s)`, s(p.ours.median), s(p.ctr.median), s(p.skopeo.median),
      `${ratio(p.ratio.oursOverCtr)} (${ratio(p.withinRounds.oursOverCtr)})`, `${ratio(p.ratio.oursOverSkopeo)} (${ratio(p.withinRounds.oursOverSkopeo)})`])
    rows.push([`… mount POSTs / blob upload PUTs per push (registry log, median)`,
      `${p.mounts.ours} / ${p.uploads.ours}`, `${p.mounts.ctr} / ${p.uploads.ctr}`, `${p.mounts.skopeo} / ${p.uploads.skopeo}`, '', ''])
  }
  const e = im.export
  rows.push([`export to a file, median of ${im.rounds} (s)`, s(e.ours.median), s(e.ctr.median), '—',
    `${ratio(e.ratio.oursOverCtr)} (${ratio(e.withinRounds.oursOverCtr)})`, '—'])
  const i = im.import
  rows.push([`import + unpack into a fresh namespace, median of ${im.rounds} (s)`, s(i.ours.median), s(i.ctr.median), '—',
    `${ratio(i.ratio.oursOverCtr)} (${ratio(i.withinRounds.oursOverCtr)})`, '—'])
  return markdownTable(['Images: ' + `${im.image.ref.replace(/^[^/]+\//, '')} (${num(im.image.totalBytes / 2 ** 20)} MiB)`,
    'containerd-napi', 'ctr', 'skopeo copy (registry → registry)', 'napi ÷ ctr (within rounds)', 'napi ÷ skopeo (within rounds)'], rows)
}

function debugTable(d) {
  if (!d) return null
  const us = (x) => num(x)
  const row = (label, key) => [label, us(d[key].medianUs.median), us(d[key].p99Us.median), us(d[key].cpuPerCallUs.median),
    key === 'unset' ? '—' : ratio(key === 'other' ? d.ratio.otherOverUnset : d.ratio.onOverUnset),
    key === 'unset' ? '—' : ratio(key === 'other' ? d.ratio.otherOverUnsetWithinRounds : d.ratio.onOverUnsetWithinRounds),
    key === 'unset' ? '—' : ratio(key === 'other' ? d.ratio.otherOverUnsetCpu : d.ratio.onOverUnsetCpu)]
  return markdownTable([`version(), ${d.rounds} fresh processes each (${d.calls} calls after ${d.warmup} warm-up)`, 'median (µs)', 'p99 (µs)',
    'CPU per call (µs)', '÷ unset (median)', '÷ unset (within rounds)', 'CPU ÷ unset'],
  [row('NODE_DEBUG unset', 'unset'), row('NODE_DEBUG=http (logging off)', 'other'), row('NODE_DEBUG=containerd-napi (on, stderr to a pipe)', 'on')])
}

/** [{ target, measured, met }] for the targets of the issue, for the sections that ran. */
function evaluateTargets(results) {
  const out = []
  const add = (target, value, text, met) => out.push({ target, value, measured: text, met })
  const v = results.rpc?.version
  if (v) {
    const s = v.sequential
    const overTonic = s.ours.median / s.floor.median
    add('version() within 1.15x of raw tonic (median; tonic on a current-thread runtime)', overTonic,
      `napi ${num(us(s.ours.median))} µs ÷ tonic ${num(us(s.floor.median))} µs = ${ratio(overTonic)} (within rounds: ${ratio(s.roundRatios?.oursOverFloor)})` +
        (s.floorMulti ? `; tonic multi-thread ${num(us(s.floorMulti.median))} µs` : ''),
      overTonic <= 1.15)
    const cpuOverTonic = s.ours.cpuPerCallUs / s.floor.cpuPerCallUs
    add('CPU per version() within 1.3x of raw tonic', cpuOverTonic,
      `napi ${num(s.ours.cpuPerCallUs)} µs ÷ tonic ${num(s.floor.cpuPerCallUs)} µs = ${ratio(cpuOverTonic)}` +
        (s.floorMulti ? `; tonic multi-thread ${num(s.floorMulti.cpuPerCallUs)} µs` : ''),
      cpuOverTonic <= 1.3)
    const vsGrpc = s.grpc.median / s.ours.median
    add('version() ≥ 1.8x faster than warmed grpc-js (median)', vsGrpc,
      `grpc-js ${num(us(s.grpc.median))} µs ÷ napi ${num(us(s.ours.median))} µs = ${ratio(vsGrpc)} (within rounds: ${ratio(s.roundRatios?.grpcOverOurs)})`,
      vsGrpc >= 1.8)
    const cpu = s.ours.cpuPerCallUs / s.grpc.cpuPerCallUs
    add('CPU per version() call ≤ 1/4 of grpc-js', cpu,
      `napi ${num(s.ours.cpuPerCallUs)} µs ÷ grpc-js ${num(s.grpc.cpuPerCallUs)} µs = ${num(cpu)} (tonic: ${num(s.floor.cpuPerCallUs)} µs)`, cpu <= 0.25)
  }
  for (const name of ['listImages', 'listContainers']) {
    const l = results.rpc?.[name]
    if (!l) continue
    const s = l.sequential
    const x = s.grpc.median / s.ours.median
    add(`${name}() over 1,000 objects ≥ 3x faster than grpc-js (median)`, x,
      `grpc-js ${num(s.grpc.median)} ms ÷ napi ${num(s.ours.median)} ms = ${ratio(x)} (within rounds: ${ratio(s.roundRatios?.grpcOverOurs)}; ` +
      `tonic: ${num(s.floor.median)} ms)`, x >= 3)
  }
  const ld = results.rpc?.load
  if (ld) {
    const x = ld.grpc.connect.median / ld.ours.connect.median
    add('load + connect ≥ 20x faster than grpc-js + proto-loader', x,
      `grpc-js ${num(ld.grpc.connect.median)} ms ÷ napi ${num(ld.ours.connect.median)} ms = ${ratio(x)}`, x >= 20)
  }
  const p = results.pull
  if (p) {
    const x = p.ours.median / p.ctr.median
    add('pull ≤ 0.7x the time of ctr images pull (median)', x,
      `napi ${num(p.ours.median / 1000)} s ÷ ctr ${num(p.ctr.median / 1000)} s = ${ratio(x)}`, x <= 0.7)
    const m = p.peakRss
    if (m) {
      add('pull\'s own peak RSS ≤ 20 MiB (napi process peak − bare node peak)', m.pullOwnMiB,
        `${num(m.oursMiB)} − ${num(m.bareNodeMiB)} = ${num(m.pullOwnMiB)} MiB (ctr images pull: ${num(m.ctrMiB)})`, m.pullOwnMiB <= 20)
    }
  }
  const r = results.run
  if (r) {
    const x = r.ours.median / r.ctr.median
    add('run latency ≤ 0.9x of ctr run --rm (median)', x, `napi ${num(r.ours.median)} ms ÷ ctr ${num(r.ctr.median)} ms = ${ratio(x)}`, x <= 0.9)
  }
  const c = results.concurrency
  if (c) {
    const x = c.ours.wall.median / c.ctr.wall.median
    add('50 concurrent run() faster than 50 concurrent ctr run --rm (wall, median)', x,
      `napi ${num(c.ours.wall.median / 1000)} s ÷ ctr ${num(c.ctr.wall.median / 1000)} s = ${ratio(x)}`, x < 1)
  }
  const m = results.memory
  if (m) {
    add(`RSS growth ≤ 10 MiB across ${m.calls.toLocaleString('en-US')} version() calls and ${m.runs} run() cycles`, m.growthMiB.total,
      `${num(m.growthMiB.total)} MiB (${num(m.growthMiB.calls)} calls + ${num(m.growthMiB.runs)} runs; ${num(m.growthMiB.afterWarmup)} after the first 1,000 calls` +
        (m.growthMiB.anon === undefined ? ')' : `; allocations ${num(m.growthMiB.anon)}, code pages ${num(m.growthMiB.file)})`),
      m.growthMiB.total <= 10)
  }
  return out
}

function renderTables(results) {
  const parts = []
  if (results.rpc) parts.push(rpcTable(results.rpc))
  const paths = results.rpc && pathsTable(results.rpc)
  if (paths) parts.push(paths)
  const life = lifecycleTable(results)
  if (life) parts.push(life)
  const mem = memoryTable(results.memory)
  if (mem) parts.push(mem)
  const network = networkTable(results.network)
  if (network) parts.push(network)
  const images = imagesTable(results.images)
  if (images) parts.push(images)
  const debug = debugTable(results.debug)
  if (debug) parts.push(debug)
  if (results.targets?.length) {
    parts.push(markdownTable(['Target', 'Measured', 'Met?'], results.targets.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**'])))
  }
  const mc = results.machine
  const header = `containerd-napi benchmarks${results.options.quick ? ' (--quick)' : ''}, ${results.startedAt}: ` +
    `${mc.nproc} CPUs (${mc.cpu}), ${mc.memTotalGiB} GiB, Linux ${mc.kernel}, containerd ${mc.containerdServer || mc.containerd}, node ${mc.node}`
  return [header, ...parts].join('\n\n')
}

module.exports = { renderTables, evaluateTargets }
