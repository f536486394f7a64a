const { Client, AlreadyExistsError, ContainerdError, httpStatus } = require('containerd-napi')

async function main() {
  const client = await Client.connect()
  try {
    await client.createNamespace('ci-43').catch(() => {})
    try {
      await client.createNamespace('ci-43')
    } catch (err) {
      if (err instanceof AlreadyExistsError) { /* fine */ }
      else if (err instanceof ContainerdError) console.error(err.code, err.grpcCode, err.details)
      else throw err
    }
    const err = await client.getImage('no-such-image').catch((e) => e)
    console.log(err.name, err.code, err.grpcCode, httpStatus(err))   // NotFoundError NOT_FOUND 5 404
    await client.deleteNamespace('ci-43')
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
