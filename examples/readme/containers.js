const { Client } = require('containerd-napi')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'
const port = process.env.PORT ?? '8080'

async function main() {
  const client = await Client.connect()
  try {
    const image = await client.pull(ref)          // createContainer does not pull: the image must be there
    const site = fs.mkdtempSync(path.join(os.tmpdir(), 'site-'))
    fs.chmodSync(site, 0o755)                     // readable by the container's user
    fs.writeFileSync(path.join(site, 'index.html'), 'hello\n')

    let container = await client.createContainer('web-1', {
      image,                                          // an Image or a name; unpacked first if it is not yet
      args: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/srv'],   // replaces Entrypoint + Cmd
      env: { MODE: 'prod' },                          // or ['MODE=prod']; merged over the image's Env
      cwd: '/srv', user: 'nobody',                    // names resolved from the image's /etc/passwd and /etc/group
      hostNetwork: true,                              // host network, /etc/hosts and /etc/resolv.conf
      mounts: [{ source: site, destination: '/srv', options: ['ro'] },
               { type: 'tmpfs', source: 'tmpfs', destination: '/tmp' }],
      readonlyRootfs: true, memoryLimitBytes: 256 << 20, cpus: 0.5,
      capabilities: { drop: ['CAP_MKNOD'] }, privileged: false,
      labels: { app: 'web' }, annotations: { 'example.com/owner': 'ci' }, hostname: 'web-1',
    })
    console.log((await container.spec()).process.args)             // the OCI runtime spec as JSON
    container = await container.setLabels({ app: null, tier: 'front' })   // merge; null removes; returns the updated Container
    console.log(container.labels)                                   // { tier: 'front' }

    const task = await container.newTask({ stdio: 'ignore' })      // or 'inherit', 'pipe' (default), { logFile }
    await task.start()
    console.log(await task.status())                   // { status: 'running' }
    await task.pause(); await task.resume()
    console.log(await task.pids())                     // [4242, …]
    console.log((await task.metrics()).memoryBytes)    // { memoryBytes, cpuUsageNanos, pids, raw } (cgroup v1 or v2)

    const again = await (await client.getContainer('web-1')).task()   // re-attach from anywhere (no stdio)
    console.log(again.pid === task.pid, await client.listContainers(['labels.tier==front']), await client.listTasks())

    // PID 1 of a container gets no default signal handlers: httpd ignores SIGTERM there, so KILL it.
    await task.kill('SIGKILL')                         // names ('term', 'SIGRTMIN+1') or numbers; { all: true }
    const { exitCode, exitedAt } = await task.wait()   // also after the exit: never missed
    console.log(exitCode, exitedAt)                    // 137 Date
    await task.delete()
    await container.delete()                           // removes its snapshot too ({ snapshot: false } skips that)
    fs.rmSync(site, { recursive: true })
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
