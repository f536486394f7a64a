const { Client } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {
    const image = await client.pull(ref)

    // stdio 'pipe' (the default): Node streams; stdin only when asked for.
    const container = await client.createContainer('cat-1', { image, args: ['sh', '-c', 'cat; sleep 30'] })
    const task = await container.newTask({ stdin: true })
    task.stdout.pipe(process.stdout, { end: false })
    task.stderr.on('data', (chunk) => console.warn(chunk.toString()))
    await task.start()
    task.stdin.end('input for the process\n')     // ending stdin closes the process's stdin

    // exec into the running task
    const proc = await task.exec('debug-1', { args: ['sh', '-c', 'id; ls /'], env: { DEBUG: '1' }, cwd: '/', user: 'nobody' })
    proc.stdout.on('data', (d) => console.log(d.toString()))
    await proc.start()
    console.log(await proc.wait())                // { exitCode: 0, exitedAt: Date }
    await proc.delete()

    // a terminal: one output stream, resizable
    const shell = await task.exec('tty-1', { args: ['sh'], tty: true, stdin: true })
    await shell.start()
    await shell.resize(120, 40)
    shell.stdin.end('exit 0\n')
    await shell.wait()
    await shell.delete()

    await task.kill('SIGKILL')
    await task.wait()
    await task.delete()
    await container.delete()   // or: await container[Symbol.asyncDispose]() kills, waits and deletes it all
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
