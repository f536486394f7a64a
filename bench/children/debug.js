'use strict'
// One sample of the debug-logging comparison: a fresh process (NODE_DEBUG as the parent set it)
// connects, makes WARMUP version() calls, then CALLS timed sequential calls.
//   node bench/children/debug.js SOCKET WARMUP CALLS
// Prints { debugEnabled, medianUs, meanUs, p99Us, cpuPerCallUs }.
const { percentile, median, mean } = require('../lib/stats.js')
const [socket, warmup, calls] = process.argv.slice(2)

async function main() {
  const { Client } = require('../..')
  const client = await Client.connect({ address: socket })
  for (let i = 0; i < Number(warmup); i++) await client.version()
  const n = Number(calls)
  const samples = new Array(n)
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await client.version()
    samples[i] = (performance.now() - t) * 1000
  }
  const cpu = process.cpuUsage(cpu0)
  await client.close()
  process.stdout.write(JSON.stringify({
    debugEnabled: require('node:util').debuglog('containerd-napi').enabled,
    medianUs: median(samples), meanUs: mean(samples), p99Us: percentile(samples, 99), cpuPerCallUs: (cpu.user + cpu.system) / n,
  }) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
