const { Client, ContainerdError, CancelledError, InvalidArgumentError, NotFoundError, httpStatus } = require('containerd-napi')

// What a web handler does with a failure: a status from httpStatus(), a body for people.
function toResponse(err) {
  const status = httpStatus(err)                   // 500 for anything that is not a ContainerdError
  const body = err instanceof ContainerdError
    ? { error: err.code, message: err.message }    // `details`: the daemon's own words, for the logs
    : { error: 'INTERNAL', message: 'internal error' }
  return { status, body }
}

async function main() {
  const client = await Client.connect()
  try {
    const missing = await client.getContainer('no-such-container').catch((e) => e)
    console.log(missing instanceof NotFoundError, toResponse(missing).status)   // true 404

    // Bad arguments are the same class whether they throw at once or reject later.
    let bad
    try { await client.createNamespace('Not A Name!') } catch (e) { bad = e }
    console.log(bad instanceof InvalidArgumentError, bad.grpcCode, toResponse(bad).status)   // true 3 400

    const aborted = await client.version({ signal: AbortSignal.abort() }).catch((e) => e)
    console.log(aborted instanceof CancelledError, aborted.name)   // true 'AbortError'

    console.log(toResponse(new Error('boom')))     // { status: 500, body: { error: 'INTERNAL', … } }
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
