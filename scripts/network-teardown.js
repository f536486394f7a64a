#!/usr/bin/env node
'use strict'
// Removes every network a sandbox made (run by scripts/sandbox.js's destroy(), after its containers
// were reaped): the library's own cleanup (CNI DEL of every attachment whose container is gone,
// namespaces, leases), then every network with its bridge and isolation chain. A separate process
// because the network root is read once per process from $CONTAINERD_NAPI_NETWORK_ROOT.
//
//   CONTAINERD_NAPI_NETWORK_ROOT=<root> node network-teardown.js <containerd socket>

const { Client } = require('../index.js')

async function main() {
  const client = await Client.connect({ address: process.argv[2], timeoutMs: 10000 })
  try {
    await client.cleanupNetworks()
    for (const { name } of await client.listNetworks()) await client.deleteNetwork(name)
  } finally {
    await client.close()
  }
}

main().catch((err) => {
  console.error(`network teardown: ${err.message}`)
  process.exit(1)
})
