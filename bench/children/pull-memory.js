'use strict'
// Peak RSS of a fresh process that pulls one image (with unpack, the defaults), or of a bare one.
//   node bench/children/pull-memory.js ours SOCKET NAMESPACE REF
//   node bench/children/pull-memory.js bare
// Prints { peakMiB, rssMiB, anonMiB, connected: { peakMiB, rssMiB }, pullMs }: VmHWM (the
// kernel's high-water mark of the whole process's RSS), VmRSS and RssAnon from
// /proc/self/status at the end, and the same after connecting, before the pull. The bare process
// does nothing but read its own status: what any node process costs.
const fs = require('node:fs')
const [which, socket, namespace, ref] = process.argv.slice(2)

function status() {
  const text = fs.readFileSync('/proc/self/status', 'utf8')
  const mib = (key) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) / 1024
  return { peakMiB: mib('VmHWM'), rssMiB: mib('VmRSS'), anonMiB: mib('RssAnon') }
}

async function main() {
  if (which === 'bare') {
    process.stdout.write(JSON.stringify(status()) + '\n')
    return
  }
  const { Client } = require('../..')
  const client = await Client.connect({ address: socket, namespace })
  await client.version()
  const connected = status()
  const t = performance.now()
  await client.pull(ref)
  const pullMs = performance.now() - t
  await client.close()
  process.stdout.write(JSON.stringify({ ...status(), connected, pullMs }) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
