const { Client } = require('containerd-napi')

async function main() {
  const client = await Client.connect({ namespace: 'default' })   // address: $CONTAINERD_ADDRESS or /run/containerd/containerd.sock
  console.log(await client.version())        // { version: '1.6.20~ds1', revision: '...' }
  await client.close()
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
