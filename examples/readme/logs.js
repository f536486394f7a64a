const { Client } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {
    await client.pull(ref)
    // A container made with `log`: its tasks' output goes to a logger the shim starts (stdio 'log',
    // the default for its tasks), as records with time and stream, rotated.
    const web = await client.createContainer('logged-1', {
      image: ref, args: ['sh', '-c', 'echo hello; echo oops >&2'],
      log: { maxSizeBytes: 1 << 20, maxFiles: 3 },   // or log: true (10 MiB x 5)
    })
    const task = await web.newTask()      // this process could exit now: the output is still recorded
    await task.start()
    await task.wait()
    await task.delete()

    // Later, from any process on this host:
    const c = await client.getContainer('logged-1')
    for await (const { time, stream, line } of c.logs({ tail: 200 })) {
      console.log(time.toISOString(), stream, line)          // 2024-05-01T12:00:00.123Z stdout hello
    }
    // follow: new lines as they come, across task restarts, until the container is deleted
    // (or `signal` aborts: CancelledError)
    const since = new Date(Date.now() - 60_000)
    let seen = 0
    for await (const r of c.logs({ follow: true, since })) {
      console.log('followed:', r.stream, r.line)
      if (++seen === 2) await c.delete()  // removes the log directory too; the follow then ends
    }
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
