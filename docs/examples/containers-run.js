const { Client, DeadlineExceededError } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {
    // run(): create, start, wait, collect the output and remove everything again (like `ctr run --rm`).
    const r = await client.run(ref, ['sh', '-c', 'echo "hi $WHO"; echo oops >&2; exit 3'], { env: { WHO: 'guide' } })
    console.log(r.exitCode, JSON.stringify(r.stdout), JSON.stringify(r.stderr))   // 3 "hi guide\n" "oops\n"

    // timeoutMs: the process is killed and cleaned up; the error keeps the output so far.
    const slow = await client.run(ref, ['sh', '-c', 'echo started; sleep 30'], { timeoutMs: 1500 }).catch((e) => e)
    console.log(slow instanceof DeadlineExceededError, JSON.stringify(slow.stdout))   // true "started\n"

    // By hand: a container is metadata and a snapshot; a task is its running process.
    const container = await client.createContainer('worker', { image: ref, args: ['sh', '-c', 'read line; echo "got $line"'] })
    const task = await container.newTask({ stdio: 'pipe', stdin: true })   // stdout, stderr and stdin streams
    let out = ''
    task.stdout.setEncoding('utf8').on('data', (d) => { out += d })
    await task.start()
    task.stdin.end('work\n')
    console.log(await task.wait(), JSON.stringify(out))     // { exitCode: 0, exitedAt: Date } "got work\n"
    await task.delete()                                     // a stopped task must be deleted before its container
    await container.delete()
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
