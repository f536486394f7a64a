'use strict'
// Container networks against the real daemon, runc and the CNI plugins: published ports, peers by
// id and IP, isolation between networks, the same IP across task restarts, nothing left behind
// (namespaces, leases, iptables rules, hosts files, bridges), crash cleanup, and bad input.
// Traffic stays on loopback and between the namespaces these tests make.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { Client, DeadlineExceededError, NotFoundError, AlreadyExistsError, InvalidArgumentError, FailedPreconditionError } = require('..')
const { sandbox, uniqueName, closedPort, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ROOT = process.env.CONTAINERD_NAPI_NETWORK_ROOT
const BODY = sb.fixtures.httpd.expect.body
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const iptablesSave = () => execFileSync('iptables-save', { encoding: 'utf8' })
const containerDirs = () => fs.readdirSync(path.join(ROOT, 'containers'))
const leases = () => fs.readdirSync(path.join(ROOT, 'ipam'), { recursive: true }).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f))
const netnsMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${ROOT}/`))

async function client() {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('net') })
  await c.pull(sb.images.httpd)
  return c
}

/** A busybox httpd serving the fixture's page on port 80 of its network. */
async function httpd(c, options) {
  const id = uniqueName('web')
  const container = await c.createContainer(id, { image: sb.images.httpd, args: ['httpd', '-f', '-p', '80', '-h', '/var/www'], ...options })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  return { id, container, task }
}

async function remove({ container, task }) {
  await task[Symbol.asyncDispose]()
  await container.delete()
}

/** fetch() with retries while the server starts (bounded: at most ~5 s). */
async function get(url) {
  let last
  for (let i = 0; i < 50; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      return await res.text()
    } catch (err) {
      last = err
      await sleep(100)
    }
  }
  throw last
}

/**
 * Runs `wget` in a throwaway container on `network`; resolves with { exitCode, stdout }. run()'s
 * own timeout, not busybox `timeout`: as PID 1, wget ignores the SIGTERM that would send.
 */
function wget(c, network, url, dns) {
  return c.run(sb.images.httpd, ['wget', '-qO-', url], { network, dns, timeoutMs: 4000 })
}

test('httpd on the default network answers on published 127.0.0.1 ports; two containers share container port 80', async () => {
  const c = await client()
  const dns = ['127.0.0.1'] // never the host's nameserver: these containers need no name service
  const [p1, p2] = [await closedPort(), await closedPort()]
  const a = await httpd(c, { network: 'bridge', ports: [`127.0.0.1:${p1}:80`], dns })
  const b = await httpd(c, { network: 'bridge', ports: [{ hostPort: p2, containerPort: 80, hostIp: '127.0.0.1' }], dns })
  try {
    assert.equal(await get(`http://127.0.0.1:${p1}/`), BODY)
    assert.equal(await get(`http://127.0.0.1:${p2}/`), BODY)
    const info = await a.container.network()
    const bridge = await c.getNetwork('bridge')
    assert.equal(info.name, 'bridge')
    assert.equal(info.gateway, bridge.gateway)
    assert.deepEqual(info.ports, [{ hostPort: p1, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }])
    assert.ok((await c.listNetworks()).some((n) => n.name === 'bridge'))
    assert.notEqual(info.ip, (await b.container.network()).ip)
    // The container's own files: itself in /etc/hosts, resolv.conf from `dns`.
    const hosts = await c.run(sb.images.httpd, ['cat', '/etc/hosts', '/etc/resolv.conf'], { network: 'bridge', dns, id: 'peek' })
    assert.match(hosts.stdout, /\tpeek\n/)
    assert.match(hosts.stdout, new RegExp(`${info.ip.replaceAll('.', '\\.')}\\t${a.id}\\n`))
    assert.match(hosts.stdout, /nameserver 127\.0\.0\.1\n/)
  } finally {
    await remove(a)
    await remove(b)
  }
  await assert.rejects(get(`http://127.0.0.1:${p1}/`))
})

test('peers reach each other by id and IP; another network cannot reach them; same IP after a task restart', async () => {
  const c = await client()
  const [nameA, nameB] = [uniqueName('neta'), uniqueName('netb')]
  const netA = await c.createNetwork(nameA, { subnet: '10.90.201.0/24', ipMasq: false, labels: { test: 'yes' } })
  const netB = await c.createNetwork(nameB, { subnet: '10.90.202.0/24', ipMasq: false })
  assert.deepEqual({ ...netA, bridge: undefined }, { name: nameA, subnet: '10.90.201.0/24', gateway: '10.90.201.1', bridge: undefined, ipMasq: false, labels: { test: 'yes' } })
  assert.match(netA.bridge, /^cnapi[0-9a-f]{10}$/)
  assert.deepEqual(await c.getNetwork(nameA), netA)
  const dnsA = ['10.90.201.254']
  const web = await httpd(c, { network: nameA, dns: dnsA, extraHosts: { 'api.test': '10.90.201.77' } })
  try {
    const { ip } = await web.container.network()
    assert.ok(ip.startsWith('10.90.201.'), ip)
    const byId = await wget(c, nameA, `http://${web.id}/`, dnsA)
    assert.deepEqual([byId.exitCode, byId.stdout], [0, BODY])
    const byIp = await wget(c, nameA, `http://${ip}/`, dnsA)
    assert.deepEqual([byIp.exitCode, byIp.stdout], [0, BODY])
    const hosts = await c.run(sb.images.httpd, ['cat', '/etc/hosts'], { network: nameA, dns: dnsA })
    assert.match(hosts.stdout, new RegExp(`${ip.replaceAll('.', '\\.')}\\t${web.id}\\n`))
    const isolated = await wget(c, nameB, `http://${ip}/`, ['10.90.202.254']).catch((err) => err)
    assert.ok(isolated instanceof DeadlineExceededError || isolated.exitCode !== 0, 'a container on another network reached the server')
    assert.equal(isolated.stdout, '')

    // Restart the task: same namespace, same IP, still serving.
    await web.task[Symbol.asyncDispose]()
    web.task = await web.container.newTask({ stdio: 'ignore' })
    await web.task.start()
    assert.equal((await web.container.network()).ip, ip)
    const again = await wget(c, nameA, `http://${ip}/`, dnsA)
    assert.equal(again.stdout, BODY)

    await rejectsWith(c.deleteNetwork(nameA), FailedPreconditionError, /in use/)
  } finally {
    await remove(web)
  }
  await c.deleteNetwork(nameA)
  await c.deleteNetwork(nameB)
  await rejectsWith(c.getNetwork(nameA), NotFoundError)
  for (const bridge of [netA.bridge, netB.bridge]) assert.ok(!fs.existsSync(`/sys/class/net/${bridge}`), `${bridge} is left`)
})

test('a host port already published or bound: AlreadyExistsError, nothing left', async () => {
  const c = await client()
  const port = await closedPort()
  const first = await httpd(c, { network: 'bridge', ports: [`127.0.0.1:${port}:80`], dns: ['127.0.0.1'] })
  const dirsBefore = containerDirs().length
  const id = uniqueName('second')
  try {
    await rejectsWith(c.createContainer(id, { image: sb.images.httpd, network: 'bridge', ports: [`${port}:8080`] }), AlreadyExistsError, /already published/)
    const server = net.createServer()
    const bound = await closedPort()
    await new Promise((r) => server.listen(bound, '127.0.0.1', r))
    try {
      await rejectsWith(c.createContainer(id, { image: sb.images.httpd, network: 'bridge', ports: [`127.0.0.1:${bound}:80`] }), AlreadyExistsError, /bound/)
    } finally {
      server.close()
    }
    await rejectsWith(c.getContainer(id), NotFoundError)
    assert.ok(!ctr(c.namespace, 'snapshots', 'ls').includes(id))
    assert.equal(containerDirs().length, dirsBefore)
    assert.ok(!iptablesSave().includes(`-${id}`))
    assert.equal(await get(`http://127.0.0.1:${port}/`), BODY, 'the first container keeps its port')
  } finally {
    await remove(first)
  }
})

test('bad input: a typed error and nothing made', async () => {
  const c = await client()
  const id = uniqueName('bad')
  const create = (options) => c.createContainer(id, { image: sb.images.httpd, ...options })
  const dirsBefore = containerDirs().length
  await rejectsWith(create({ network: uniqueName('nosuch') }), NotFoundError, /not found/)
  for (const ports of [['80'], ['0:80'], ['8080:0'], ['70000:80'], ['8080:80/sctp'], ['::1:8080:80'], [{ hostPort: 8080, containerPort: 80, hostIp: '::1' }], [{ hostPort: 1.5, containerPort: 80 }]]) {
    await rejectsWith(create({ network: 'bridge', ports }), InvalidArgumentError, undefined)
  }
  await rejectsWith(create({ network: 'none', ports: ['8080:80'] }), InvalidArgumentError, /need a network name/)
  await rejectsWith(create({ network: 'host', ports: ['8080:80'] }), InvalidArgumentError, /need a network name/)
  await rejectsWith(create({ hostNetwork: true, network: 'bridge' }), InvalidArgumentError, /hostNetwork/)
  await rejectsWith(create({ dns: ['10.0.0.1'] }), InvalidArgumentError, /network name/)
  await rejectsWith(create({ network: 'bridge', dns: ['nameserver'] }), InvalidArgumentError, /dns/)
  await rejectsWith(create({ network: 'bridge', extraHosts: { 'a b': '10.0.0.1' } }), InvalidArgumentError, /extraHosts/)
  await rejectsWith(create({ network: 'bridge', ports: ['8080:80', '8080:81'] }), InvalidArgumentError, /twice/)
  await rejectsWith(c.getContainer(id), NotFoundError)
  assert.equal(containerDirs().length, dirsBefore)

  const name = uniqueName('dup')
  await c.createNetwork(name, { subnet: '10.90.210.0/24', ipMasq: false })
  try {
    await rejectsWith(c.createNetwork(name), AlreadyExistsError)
    await rejectsWith(c.createNetwork(uniqueName('overlap'), { subnet: '10.90.210.128/25' }), InvalidArgumentError, /overlaps/)
    await rejectsWith(c.createNetwork(uniqueName('overlap'), { subnet: '10.90.0.0/16' }), InvalidArgumentError, /overlaps/)
    await rejectsWith(c.createNetwork(uniqueName('x'), { subnet: '10.90.211.1/24' }), InvalidArgumentError, /host bits/)
    await rejectsWith(c.createNetwork(uniqueName('x'), { subnet: 'fd00::/64' }), InvalidArgumentError)
    await rejectsWith(c.createNetwork(uniqueName('x'), { subnet: '10.90.212.0/24', gateway: '10.90.213.1' }), InvalidArgumentError, /gateway/)
    await rejectsWith(c.createNetwork('host'), InvalidArgumentError, /reserved/)
    await rejectsWith(c.createNetwork('Bad Name!'), InvalidArgumentError)
    await rejectsWith(c.deleteNetwork(uniqueName('nosuch')), NotFoundError)
  } finally {
    await c.deleteNetwork(name)
  }
})

test('over tcp:// a network name is a FailedPreconditionError; none and host still work', async (t) => {
  if (!sb.tcpAddress) return t.skip('the sandbox has no tcp:// forwarder')
  const c = await Client.connect({ address: sb.tcpAddress, namespace: uniqueName('net') })
  await c.pull(sb.images.httpd)
  await rejectsWith(c.createContainer(uniqueName('r'), { image: sb.images.httpd, network: 'bridge' }), FailedPreconditionError, /this host/)
  await rejectsWith(c.listNetworks(), FailedPreconditionError)
  const none = await c.run(sb.images.httpd, ['true'], { network: 'none' })
  assert.equal(none.exitCode, 0)
})

/** Runs a child that creates a networked container and dies by SIGKILL at `fault` (or after create). */
async function dyingChild(namespace, id, port, fault) {
  const script = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const c = await Client.connect({ address: ${JSON.stringify(sb.address)}, namespace: ${JSON.stringify(namespace)} })
      const container = await c.createContainer(${JSON.stringify(id)}, {
        image: ${JSON.stringify(sb.images.httpd)}, args: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
        network: 'bridge', ports: ['127.0.0.1:${port}:80'], dns: ['127.0.0.1'],
      })
      const task = await container.newTask({ stdio: 'ignore' })
      await task.start()
      process.kill(process.pid, 'SIGKILL')
    })()`
  const env = { ...process.env, ...(fault ? { CONTAINERD_NAPI_NETWORK_FAULT: fault } : {}) }
  const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'inherit', 'inherit'] })
  const signal = await new Promise((resolve) => child.on('exit', (code, sig) => resolve(sig)))
  assert.equal(signal, 'SIGKILL')
}

test('cleanupNetworks() removes what killed processes left and keeps live containers working', async () => {
  const c = await client()
  const [alive, dead] = [uniqueName('alive'), uniqueName('dead')]
  const [p1, p2] = [await closedPort(), await closedPort()]
  await dyingChild(c.namespace, alive, p1) // killed right after create + start
  await dyingChild(c.namespace, dead, p2, 'after-loopback') // killed between CNI steps
  const deadDirs = containerDirs().filter((d) => d.endsWith(`-${c.namespace}-${dead}`))
  assert.equal(deadDirs.length, 1, 'the killed create left its record')
  assert.ok(netnsMounts().some((l) => l.includes(deadDirs[0])), 'and its pinned namespace')

  const { removed } = await c.cleanupNetworks()
  assert.ok(removed >= 1, `removed ${removed}`)
  assert.ok(!containerDirs().some((d) => d.endsWith(`-${dead}`)))
  assert.ok(!netnsMounts().some((l) => l.includes(`-${dead}/`)))
  assert.ok(!iptablesSave().includes(`-${dead}`))
  await rejectsWith(c.getContainer(dead), NotFoundError)

  const container = await c.getContainer(alive)
  assert.equal(await get(`http://127.0.0.1:${p1}/`), BODY, 'the live container still serves')
  await container[Symbol.asyncDispose]()
  assert.equal((await c.cleanupNetworks()).removed, 0)
})

test('after every container and network is deleted nothing of them is left', async () => {
  const c = await client()
  const name = uniqueName('gone')
  const net1 = await c.createNetwork(name, { subnet: '10.90.220.0/24', ipMasq: false })
  const ids = []
  for (let i = 0; i < 2; i++) {
    const w = await httpd(c, { network: name, ports: [`127.0.0.1:${await closedPort()}:80`], dns: ['10.90.220.254'] })
    ids.push(w.id)
    await remove(w)
  }
  await c.deleteNetwork(name)
  const saved = iptablesSave()
  for (const id of ids) {
    assert.ok(!saved.includes(`-${id}`), `iptables still names ${id}`)
    assert.ok(!containerDirs().some((d) => d.endsWith(`-${id}`)), `hosts/netns dir of ${id} is left`)
  }
  assert.ok(!netnsMounts().some((l) => ids.some((id) => l.includes(`-${id}/`))))
  assert.deepEqual(leases().filter((l) => l.startsWith(net1.bridge)), [])
  assert.ok(!fs.existsSync(`/sys/class/net/${net1.bridge}`))
  assert.ok(!saved.includes(net1.bridge), 'iptables still names the bridge')
})
