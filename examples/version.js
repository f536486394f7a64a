#!/usr/bin/env node
'use strict'
// The smallest useful program: connect, print the daemon's version, its plugins and namespaces,
// and round-trip a labelled namespace. Uses $CONTAINERD_ADDRESS when set; otherwise it starts
// the project's private containerd (scripts/sandbox.js) and removes it again at the end.

const { Client, ContainerdError } = require('..')

async function main() {
  let sandbox
  let address = process.env.CONTAINERD_ADDRESS
  if (!address) {
    const sb = require('../scripts/sandbox.js')
    console.log('starting a private containerd (scripts/sandbox.js) ...')
    sandbox = await sb.start({ name: 'example', fixtures: false })
    address = sandbox.address
  }
  try {
    // (On Node >= 24, `await using client = ...` closes it automatically.)
    const client = await Client.connect({ address, timeoutMs: 5000 })
    const { version, revision } = await client.version()
    console.log(`containerd ${version} (${revision}) at ${client.address}`)

    const plugins = await client.plugins()
    const count = (status) => plugins.filter((p) => p.status === status).length
    console.log(`plugins: ${count('ok')} ok, ${count('skip')} skipped, ${count('error')} failed`)

    const name = `example-${process.pid}`
    await client.createNamespace(name, { 'example.com/created-by': 'containerd-napi' })
    for (const ns of await client.listNamespaces()) {
      console.log(`namespace ${ns.name}`, ns.labels)
    }
    await client.deleteNamespace(name)

    try {
      await client.createNamespace('not a valid name')
    } catch (err) {
      if (!(err instanceof ContainerdError)) throw err
      console.log(`typed error: ${err.name} (${err.code}): ${err.message}`)
    }
    await client.close()
  } finally {
    if (sandbox) await require('../scripts/sandbox.js').stop(sandbox)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
