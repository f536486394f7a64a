'use strict'
// Memory: RSS of a fresh process after loading, after 10,000 version() calls and after 200 run()
// cycles (this package), and after loading and 10,000 version() calls (grpc-js, for context).

const path = require('node:path')
const { run } = require('../lib/procs.js')
const { prepare } = require('./run.js')

const NS = 'bench-memory'

async function benchMemory(ctx) {
  const { sb, quick, log, vendor } = ctx
  const calls = 10000
  const runs = quick ? 50 : 200
  log(`memory: RSS over ${calls.toLocaleString('en-US')} version() calls and ${runs} run() cycles (fresh process)`)
  const ref = await prepare(ctx, NS)
  const child = path.join(__dirname, '../children/memory.js')
  const measure = async (which) => {
    const { stdout } = await run(process.execPath, ['--expose-gc', child, which, sb.address, NS, ref, String(calls), String(runs), vendor],
      { timeout: 600000 })
    return JSON.parse(stdout).samples
  }
  const ours = await measure('ours')
  const grpc = await measure('grpc')
  const first = ours[0].rssMiB
  const last = ours[ours.length - 1].rssMiB
  const afterCalls = ours.find((s) => s.label === `after ${calls.toLocaleString('en-US')} version()`).rssMiB
  // After the first 1,000 calls the allocators and V8 have reached their working sizes; growth
  // from there on is what a leak would show.
  const warm = ours.find((s) => s.label === 'after 1,000 version()')
  return {
    calls,
    runs,
    ours,
    grpc,
    growthMiB: {
      total: last - first, calls: afterCalls - first, runs: last - afterCalls, afterWarmup: warm ? last - warm.rssMiB : null,
      // The same growth split into allocated memory and file-backed pages (code).
      anon: ours[ours.length - 1].anonMiB - ours[0].anonMiB, file: ours[ours.length - 1].fileMiB - ours[0].fileMiB,
    },
  }
}

module.exports = { benchMemory }
