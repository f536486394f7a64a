const { Client } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {
    const stream = client.subscribe({ filters: ['topic~="/tasks/"'] })   // this namespace; allNamespaces: true for all
    await stream.ready                                   // registered with the daemon: nothing after this is missed

    const job = client.run(ref, ['sh', '-c', 'exit 7'])  // something to watch
    for await (const e of stream) {
      // { namespace, topic: '/tasks/exit', timestamp: Date, type: 'containerd.events.TaskExit',
      //   event: { containerId, id, pid, exitStatus, exitedAt: Date } }
      console.log(e.topic)
      if (e.topic === '/tasks/exit') {
        console.log(e.event.containerId, e.event.exitStatus)   // run-… 7
        break                                            // break / return() / close() / signal end the server stream
      }
    }
    await job
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
