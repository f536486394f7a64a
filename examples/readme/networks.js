const { Client } = require('containerd-napi')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'
const port = process.env.PORT ?? '8080'

async function main() {
  const client = await Client.connect()   // needs root and containerd on this host
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'site-'))
  fs.chmodSync(site, 0o755)
  fs.writeFileSync(path.join(site, 'index.html'), 'hello\n')
  try {
    await client.pull(ref)
    // A network of your own ('bridge' is the default one): its containers reach each other by
    // container id and by IP, and no container of another network reaches them.
    await client.createNetwork('backend', { subnet: '10.90.5.0/24', labels: { app: 'shop' } })
    console.log(await client.getNetwork('backend'))   // { name, subnet, gateway: '10.90.5.1', bridge, ipMasq, labels }

    const web = await client.createContainer('web', {
      image: ref, args: ['httpd', '-f', '-p', '80', '-h', '/srv'],
      mounts: [{ source: site, destination: '/srv', options: ['ro'] }],
      network: 'backend',
      ports: [`127.0.0.1:${port}:80`],       // '[hostIp:]hostPort:containerPort[/tcp|udp]' or
                                             // { hostPort, containerPort, protocol?, hostIp? }
      dns: ['10.90.5.53'],                   // default: the host's nameservers minus loopback ones
      extraHosts: { 'db.internal': '10.90.5.40' },
    })
    const task = await web.newTask({ stdio: 'ignore' })
    await task.start()
    console.log(await web.network())         // { name: 'backend', ip: '10.90.5.2', gateway, ports: [{ hostPort, … }] }

    // From this host, through the published port (give httpd a moment to listen):
    for (let i = 0; i < 50; i++) {
      const body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => null)
      if (body !== null) { console.log(body); break }   // 'hello\n'
      await new Promise((r) => setTimeout(r, 100))
    }
    // From a peer on the same network, by container id:
    const peer = await client.run(ref, ['wget', '-qO-', 'http://web/'], { network: 'backend', dns: ['10.90.5.53'] })
    console.log(peer.stdout)                 // 'hello\n'

    console.log((await client.listNetworks()).map((n) => n.name))   // [ 'backend', 'bridge' ]
    await task.kill('SIGKILL')               // httpd is PID 1: it ignores SIGTERM
    await task.wait()
    await task.delete()
    await web.delete()                       // releases its IP, port and namespace
    await client.deleteNetwork('backend')    // FailedPreconditionError while a container is attached
    console.log(await client.cleanupNetworks())   // { removed: 0 }: what crashed processes left behind
  } finally {
    fs.rmSync(site, { recursive: true, force: true })
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
