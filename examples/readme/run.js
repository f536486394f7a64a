const { Client, DeadlineExceededError } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {

    // run(): like `ctr run --rm` (pulls if missing, always removes task, container and snapshot)
    const { exitCode, stdout, stderr, exitedAt } = await client.run(ref, ['sh', '-c', 'echo hi; exit 3'])
    console.log(exitCode, stdout.toString(), stderr.toString(), exitedAt)   // 3 'hi\n' '' Date

    const shout = await client.run(ref, ['tr', 'a-z', 'A-Z'], { input: 'shout\n' })
    console.log(shout.stdout.toString())                                     // 'SHOUT\n'

    try {
      await client.run(ref, ['sleep', '60'], { timeoutMs: 2000 })   // covers the pull too
    } catch (err) {
      if (!(err instanceof DeadlineExceededError)) throw err
      console.log('timed out; output so far:', err.stdout?.toString())
    }

    const controller = new AbortController()
    await client.run(ref, ['true'], { id: 'job-1', env: { A: 'b' }, pull: { platform: 'linux/amd64' }, signal: controller.signal })
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
