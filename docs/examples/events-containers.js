const { Client } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {
    await client.pull(ref)
    // Only topic=="…" filters: the events are typed (a union discriminated by `topic`).
    const stream = client.subscribe({ filters: ['topic=="/containers/create"', 'topic=="/containers/delete"'] })
    await stream.ready                            // subscribed: nothing from here on is missed

    const container = await client.createContainer('watched', { image: ref, args: ['true'] })
    await container.delete()

    for await (const e of stream) {
      if (e.topic === '/containers/create') console.log('created', e.event.id, e.event.image)
      if (e.topic === '/containers/delete') { console.log('deleted', e.event.id); break }   // break closes the stream
    }

    // A signal ends a stream too, with a CancelledError (name 'AbortError').
    const quiet = client.subscribe({ filters: ['topic=="/no/such/topic"'], signal: AbortSignal.timeout(300) })
    const err = await quiet.next().catch((e) => e)   // no event comes: next() rejects when the signal fires
    console.log(err?.name)                        // 'AbortError'
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
