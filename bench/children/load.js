'use strict'
// One fresh process per sample: how long loading a client library and connecting takes.
//   node bench/children/load.js ours|grpc SOCKET [VENDOR_DIR]
// Prints { loadMs, connectMs, firstCallMs } (cumulative from the first line of this file; node's
// own start-up is not included, and is the same for both).
const t0 = performance.now()
const [which, socket, vendor] = process.argv.slice(2)

async function main() {
  let client
  let loadMs
  if (which === 'ours') {
    const { Client } = require('../..')
    loadMs = performance.now() - t0
    client = await Client.connect({ address: socket })
  } else if (which === 'grpc') {
    // grpc-js and proto-loader are required, and the protos parsed, inside connectGrpc.
    const { connectGrpc } = require('../lib/grpc.js')
    client = await connectGrpc({ socket, vendor })
    loadMs = client.loadedAt - t0
  } else {
    throw new Error(`unknown client ${which}`)
  }
  const connectMs = performance.now() - t0
  await client.version()
  const firstCallMs = performance.now() - t0
  await client.close()
  process.stdout.write(JSON.stringify({ loadMs, connectMs, firstCallMs }) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
