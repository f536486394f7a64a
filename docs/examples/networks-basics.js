const { Client, AlreadyExistsError, FailedPreconditionError, InvalidArgumentError } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'
const port = process.env.PORT ?? '8080'

async function main() {
  const client = await Client.connect()   // root, and containerd on this host (a unix socket)
  try {
    await client.pull(ref)
    const net = await client.createNetwork('guide-net', { labels: { guide: 'networks' } })
    console.log(net.subnet, net.gateway)     // a free /24 of 10.90.0.0/16, e.g. '10.90.3.0/24' '10.90.3.1'

    const bad = await client.createNetwork('guide-bad', { subnet: '10.90.0.0/33' }).catch((e) => e)
    console.log(bad instanceof InvalidArgumentError)   // true: checked before anything is made

    const db = await client.createContainer('db', {
      image: ref, args: ['sleep', '60'], network: 'guide-net', ports: [`127.0.0.1:${port}:5432`],
    })
    // The same host port twice: AlreadyExistsError, and no second container.
    const clash = await client.createContainer('db-2', {
      image: ref, args: ['sleep', '60'], network: 'guide-net', ports: [`127.0.0.1:${port}:5432`],
    }).catch((e) => e)
    console.log(clash instanceof AlreadyExistsError)   // true

    const task = await db.newTask({ stdio: 'ignore' })
    await task.start()
    console.log(await db.network())          // { name: 'guide-net', ip, gateway, ports: [{ hostPort, containerPort: 5432, … }] }

    // Peers find each other by container id through /etc/hosts:
    const peer = await client.run(ref, ['grep', '-w', 'db', '/etc/hosts'], { network: 'guide-net' })
    console.log(peer.stdout.trim())          // '10.90.3.2	db'

    const busy = await client.deleteNetwork('guide-net').catch((e) => e)
    console.log(busy instanceof FailedPreconditionError)   // true while a container is attached

    await task.kill('SIGKILL')
    await task.wait()
    await task.delete()
    await db.delete()                        // releases its IP and port
    await client.deleteNetwork('guide-net')
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
