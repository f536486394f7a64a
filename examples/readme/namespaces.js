const { Client, AlreadyExistsError } = require('containerd-napi')

async function main() {
  // Defaults: address $CONTAINERD_ADDRESS or /run/containerd/containerd.sock,
  //           namespace $CONTAINERD_NAMESPACE or 'default', timeoutMs 10000.
  const client = await Client.connect({ timeoutMs: 2000 })

  console.log(await client.version())   // { version: '1.6.20~ds1', revision: '1.6.20~ds1-1+deb12u3' }
  const plugins = await client.plugins()
  console.log(plugins.filter((p) => p.status !== 'ok').map((p) => `${p.type}.${p.id}: ${p.status}`))

  try {
    await client.createNamespace('ci-42', { team: 'build' })
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err     // fine if it is there already
  }
  console.log(await client.listNamespaces())   // [{ name: 'ci-42', labels: { team: 'build' } }, ...]

  const ci = client.withNamespace('ci-42')     // synchronous; shares the connection
  console.log(ci.namespace, await ci.listImages())   // 'ci-42' []
  await client.deleteNamespace('ci-42')
  await client.close()                         // closes the shared connection for every view
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
