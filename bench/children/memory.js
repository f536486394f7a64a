'use strict'
// RSS of a fresh process: after loading + connecting, after version() calls, after run() cycles.
//   node --expose-gc bench/children/memory.js ours|grpc SOCKET NAMESPACE IMAGE CALLS RUNS [VENDOR_DIR]
// Prints { samples: [{ label, rssMiB, heapUsedMiB, externalMiB }] }. Every sample is taken after
// two full garbage collections, so it measures what is retained, not garbage awaiting collection.
const fs = require('node:fs')
const [which, socket, namespace, image, calls, runs, vendor] = process.argv.slice(2)
const MiB = 2 ** 20
const samples = []

async function sample(label) {
  for (let i = 0; i < 2; i++) {
    global.gc()
    await new Promise((r) => setTimeout(r, 50))
  }
  const m = process.memoryUsage()
  // RssAnon is memory the process allocated; RssFile is mapped files (node's own code pages,
  // faulted in as V8 starts optimising hot code), which no leak can cause.
  const status = fs.readFileSync('/proc/self/status', 'utf8')
  const kib = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) / 1024
  samples.push({
    label, rssMiB: m.rss / MiB, anonMiB: kib('RssAnon'), fileMiB: kib('RssFile'),
    heapUsedMiB: m.heapUsed / MiB, heapTotalMiB: m.heapTotal / MiB, externalMiB: m.external / MiB,
  })
}

async function main() {
  let client
  if (which === 'ours') {
    const { Client } = require('../..')
    client = await Client.connect({ address: socket, namespace })
  } else {
    const { connectGrpc } = require('../lib/grpc.js')
    client = await connectGrpc({ socket, vendor, namespace })
  }
  const version = which === 'ours' ? () => client.version() : () => client.version({})
  await version()
  await sample('loaded + connected')
  const total = Number(calls)
  for (let i = 1; i <= total; i++) {
    await version()
    if ((i === 1000 || i === 5000) && i < total) await sample(`after ${i.toLocaleString('en-US')} version()`)
  }
  await sample(`after ${total.toLocaleString('en-US')} version()`)
  const cycles = which === 'ours' ? Number(runs) : 0
  for (let i = 1; i <= cycles; i++) {
    const r = await client.run(image, ['true'])
    if (r.exitCode !== 0) throw new Error(`run() exited with ${r.exitCode}`)
    if ((i === 20 || i === 100) && i < cycles) await sample(`+ ${i} run()`)
  }
  if (cycles) await sample(`+ ${cycles} run()`)
  await client.close()
  process.stdout.write(JSON.stringify({ samples }) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
