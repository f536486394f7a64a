'use strict'
// Debug logging off costs nothing: version() latency in fresh processes with NODE_DEBUG unset vs
// set to something else (http: util.debuglog('containerd-napi') stays disabled, the addon's
// logging stays off), alternating, and for context NODE_DEBUG=containerd-napi (a line per RPC
// to stderr, which goes into a pipe this process reads).

const path = require('node:path')
const { run } = require('../lib/procs.js')
const { summary, median } = require('../lib/stats.js')

const VARIANTS = {
  unset: undefined,
  other: 'http',
  on: 'containerd-napi',
}

async function benchDebug(ctx) {
  const { sb, quick, log } = ctx
  const rounds = quick ? 3 : 8
  const warmup = 2000
  const calls = 2000
  const child = path.join(__dirname, '../children/debug.js')
  log(`debug: version() with NODE_DEBUG unset / =http / =containerd-napi, ${rounds} rounds of fresh processes (${warmup} warm-up + ${calls} calls)`)
  const sample = async (which) => {
    const env = { ...process.env }
    delete env.NODE_DEBUG
    if (VARIANTS[which] !== undefined) env.NODE_DEBUG = VARIANTS[which]
    const { stdout, stderr } = await run(process.execPath, [child, sb.address, String(warmup), String(calls)], { env, timeout: 120000 })
    const r = JSON.parse(stdout)
    if (r.debugEnabled !== (which === 'on')) throw new Error(`NODE_DEBUG=${env.NODE_DEBUG}: debuglog enabled = ${r.debugEnabled}`)
    return { ...r, stderrLines: stderr.split('\n').filter(Boolean).length }
  }
  const samples = { unset: [], other: [], on: [] }
  const orders = [['unset', 'other', 'on'], ['other', 'on', 'unset'], ['on', 'unset', 'other']]
  for (let i = 0; i < rounds; i++) {
    for (const which of orders[i % 3]) samples[which].push(await sample(which))
    log(`  round ${i + 1}: ` + Object.entries(samples).map(([k, v]) => `${k} ${v[v.length - 1].medianUs.toFixed(0)} µs`).join(', '))
  }
  const pick = (which, key) => samples[which].map((s) => s[key])
  const describe = (which) => ({
    medianUs: summary(pick(which, 'medianUs')), p99Us: summary(pick(which, 'p99Us')), cpuPerCallUs: summary(pick(which, 'cpuPerCallUs')),
    stderrLines: median(pick(which, 'stderrLines')), nodeDebug: VARIANTS[which] ?? null,
  })
  const within = (a, b, key) => median(samples[a].map((s, k) => s[key] / samples[b][k][key]))
  const res = { rounds, warmup, calls, unset: describe('unset'), other: describe('other'), on: describe('on') }
  res.ratio = {
    otherOverUnset: res.other.medianUs.median / res.unset.medianUs.median,
    otherOverUnsetWithinRounds: within('other', 'unset', 'medianUs'),
    otherOverUnsetCpu: res.other.cpuPerCallUs.median / res.unset.cpuPerCallUs.median,
    onOverUnset: res.on.medianUs.median / res.unset.medianUs.median,
    onOverUnsetWithinRounds: within('on', 'unset', 'medianUs'),
    onOverUnsetCpu: res.on.cpuPerCallUs.median / res.unset.cpuPerCallUs.median,
  }
  res.samples = samples
  return res
}

module.exports = { benchDebug }
