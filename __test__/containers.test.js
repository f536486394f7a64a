'use strict'
// Containers and the task lifecycle against the real daemon and runc: the OCI spec from the image
// and every option, stdio ignore/inherit/logFile, signals, pause/resume, metrics, interop with ctr.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Client, Container, Task, NotFoundError, AlreadyExistsError, InvalidArgumentError, FailedPreconditionError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const lines = (text) => text.split('\n').filter(Boolean)
const snapshotKeys = (ns) => lines(ctr(ns, 'snapshots', 'ls')).slice(1).map((l) => l.split(/\s+/)[0])
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-containers-'))

async function client() {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('ctr') })
  await c.pull(sb.images.busybox)
  return c
}

/** Runs a container to completion with a logFile and returns what it wrote. */
async function runLogged(c, options) {
  const id = uniqueName('run')
  const log = path.join(tmp, `${id}.log`)
  const container = await c.createContainer(id, options)
  const task = await container.newTask({ logFile: log })
  await task.start()
  const exit = await task.wait()
  await task.delete()
  await container.delete()
  return { exit, output: fs.readFileSync(log, 'utf8') }
}

test('the config fixture runs as its user, in its WorkingDir, with its Env; options override each', async () => {
  const c = await client()
  const fixture = sb.fixtures.config
  await c.pull(fixture.ref)
  const plain = await runLogged(c, { image: fixture.ref })
  assert.equal(plain.exit.exitCode, 0)
  assert.ok(plain.exit.exitedAt instanceof Date)
  assert.equal(plain.output, fixture.expect.output)

  const show = 'echo "$GREETING|$EXTRA|$(id -u):$(id -g):$(id -G)|$(pwd)"'
  const overridden = await runLogged(c, {
    image: fixture.ref, args: ['/bin/sh', '-c', show], env: { GREETING: 'hi', EXTRA: 'x' }, cwd: '/tmp', user: 'other',
  })
  assert.equal(overridden.output, 'hi|x|4321:4321:4321|/tmp\n')
  const numeric = await runLogged(c, { image: fixture.ref, args: ['/bin/sh', '-c', show], user: '0:0', env: ['EXTRA=y'] })
  assert.equal(numeric.output, 'hello|y|0:0:0|/home/app\n')
  const named = await runLogged(c, { image: fixture.ref, args: ['/bin/sh', '-c', show], user: 'app:other' })
  assert.equal(named.output, 'hello||1234:4321:4321 2345|/home/app\n')
  await c.close()
})

test('a hostNetwork httpd container is reachable on 127.0.0.1', async () => {
  const c = await client()
  await c.pull(sb.images.httpd)
  const port = 20000 + Math.floor(Math.random() * 20000)
  const container = await c.createContainer(uniqueName('httpd'), {
    image: sb.images.httpd, hostNetwork: true, args: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/var/www'],
  })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  let body
  for (let i = 0; i < 100 && body === undefined; i++) {
    try { body = await (await fetch(`http://127.0.0.1:${port}/`)).text() } catch { await new Promise((r) => setTimeout(r, 50)) }
  }
  assert.equal(body, sb.fixtures.httpd.expect.body)
  const spec = await container.spec()
  assert.ok(!spec.linux.namespaces.some((n) => n.type === 'network'))
  assert.ok(spec.mounts.some((m) => m.destination === '/etc/resolv.conf'))
  await task.kill('SIGKILL')
  assert.equal((await task.wait()).exitCode, 137)
  await task.delete()
  await container.delete()
  await c.close()
})

test('bind mounts are writable from inside, readonlyRootfs refuses writes, tmpfs mounts work', async () => {
  const c = await client()
  const dir = fs.mkdtempSync(path.join(tmp, 'bind-'))
  const r = await runLogged(c, {
    image: sb.images.busybox,
    args: ['sh', '-c', 'echo written > /mnt/host/out.txt && mount | grep -c " /scratch type tmpfs" && touch /rootfile 2>&1; echo rc=$?'],
    mounts: [{ source: dir, destination: '/mnt/host' }, { type: 'tmpfs', source: 'tmpfs', destination: '/scratch' }],
    readonlyRootfs: true,
  })
  assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'written\n')
  assert.match(r.output, /^1\n/m)
  assert.match(r.output, /Read-only file system/)
  assert.match(r.output, /rc=1/)
  await c.close()
})

test('memory limit and cpus are in the spec and the cgroup; metrics report memory in use', async () => {
  const c = await client()
  const limit = 64 * 1024 * 1024
  const container = await c.createContainer(uniqueName('mem'), { image: sb.images.busybox, args: ['sleep', '60'], memoryLimitBytes: limit, cpus: 0.5 })
  const spec = await container.spec()
  assert.equal(spec.linux.resources.memory.limit, limit)
  assert.equal(spec.linux.resources.cpu.quota, 50000)
  assert.equal(spec.linux.resources.cpu.period, 100000)
  assert.equal(spec.linux.cgroupsPath, `/${c.namespace}/${container.id}`)
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const cgroupV1 = `/sys/fs/cgroup/memory/${c.namespace}/${container.id}/memory.limit_in_bytes`
  const cgroupV2 = `/sys/fs/cgroup/${c.namespace}/${container.id}/memory.max`
  const file = fs.existsSync(cgroupV1) ? cgroupV1 : cgroupV2
  assert.equal(Number(fs.readFileSync(file, 'utf8')), limit)
  const metrics = await task.metrics()
  assert.ok(metrics.memoryBytes > 0, JSON.stringify(metrics).slice(0, 300))
  assert.ok(metrics.pids >= 1)
  assert.equal(typeof metrics.raw, 'object')
  await task[Symbol.asyncDispose]()
  await container.delete()
  await c.close()
})

test('kill by name and number, pause/resume in status(), pids, wait after the exit, re-attach from another Client', async () => {
  const c = await client()
  // PID 1 ignores signals it has no handler for, so the script installs some.
  const script = 'trap "exit 143" TERM; trap "exit 138" USR1; while :; do sleep 1 & wait $!; done'
  const container = await c.createContainer(uniqueName('life'), { image: sb.images.busybox, args: ['sh', '-c', script] })
  const task = await container.newTask({ stdio: 'ignore' })
  assert.ok(task instanceof Task && task.pid > 0)
  assert.deepEqual(await task.status(), { status: 'created' })
  await task.start()
  assert.deepEqual(await task.status(), { status: 'running' })
  const pids = await task.pids()
  assert.ok(pids.includes(task.pid), `${pids}`)
  await task.pause()
  assert.deepEqual(await task.status(), { status: 'paused' })
  await task.resume()
  assert.deepEqual(await task.status(), { status: 'running' })
  assert.ok((await c.listTasks()).some((t) => t.id === container.id && t.status === 'running' && t.pid === task.pid))

  const other = await Client.connect({ address: sb.address, namespace: c.namespace })
  const again = await (await other.getContainer(container.id)).task()
  assert.equal(again.pid, task.pid)
  await again.kill('SIGTERM')
  const exit = await task.wait()
  assert.equal(exit.exitCode, 143)
  await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(await again.wait(), exit) // after the exit, still the same answer
  assert.deepEqual(await task.status(), { status: 'stopped', exitCode: 143 })
  assert.deepEqual(await task.delete(), exit)
  await rejectsWith(container.task(), NotFoundError)

  const second = await container.newTask({ stdio: 'ignore' })
  await second.start()
  await second.kill(9)
  assert.equal((await second.wait()).exitCode, 137)
  await second.delete()
  const third = await container.newTask({ stdio: 'ignore' })
  await third.start()
  await third.kill('usr1')
  assert.equal((await third.wait()).exitCode, 138)
  await rejectsWith(third.kill('SIGNOPE'), InvalidArgumentError, /signal/)
  await third.delete()
  await container.delete()
  await other.close()
  await c.close()
})

test('deleting a running task is FailedPreconditionError; asyncDispose cleans task and container', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('disp'), { image: sb.images.busybox, args: ['sleep', '300'] })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  await rejectsWith(task.delete(), FailedPreconditionError)
  await container[Symbol.asyncDispose]()
  await rejectsWith(c.getContainer(container.id), NotFoundError)
  assert.deepEqual(snapshotKeys(c.namespace).filter((k) => k === container.id), [])
  await c.close()
})

test('interop: ctr starts our container, and we drive a container ctr created', async () => {
  const c = await client()
  const ours = await c.createContainer(uniqueName('ours'), { image: sb.images.busybox, args: ['sh', '-c', 'exit 7'] })
  const out = spawnSync('ctr', ['-a', sb.address, '-n', c.namespace, 'task', 'start', ours.id], { encoding: 'utf8' })
  assert.equal(out.status, 7, out.stderr)
  await rejectsWith(ours.task(), NotFoundError) // ctr deletes the task it waited for
  await ours.delete()

  const theirs = uniqueName('theirs')
  ctr(c.namespace, 'container', 'create', '--', sb.images.busybox, theirs, 'sh', '-c', 'exit 3')
  const container = await c.getContainer(theirs)
  assert.equal(container.image, sb.images.busybox)
  assert.equal(container.runtime, 'io.containerd.runc.v2')
  assert.deepEqual((await container.spec()).process.args, ['sh', '-c', 'exit 3'])
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  assert.equal((await task.wait()).exitCode, 3)
  await task.delete()
  await container.delete()
  assert.deepEqual(lines(ctr(c.namespace, 'containers', 'ls', '-q')), [])
  await c.close()
})

test('stdio inherit writes to this process\'s stdout and stderr', () => {
  const script = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const c = await Client.connect({ address: ${JSON.stringify(sb.address)}, namespace: ${JSON.stringify(uniqueName('inh'))} })
      await c.pull(${JSON.stringify(sb.images.busybox)})
      const container = await c.createContainer('inherit', { image: ${JSON.stringify(sb.images.busybox)}, args: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2'] })
      const task = await container.newTask({ stdio: 'inherit' })
      await task.start()
      await task.wait()
      await new Promise((r) => setTimeout(r, 100))
      await task.delete(); await container.delete(); await c.close()
    })().catch((e) => { console.error('FAILED', e); process.exit(1) })`
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 })
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout, 'to-stdout\n')
  assert.equal(child.stderr, 'to-stderr\n')
})

test('containers: fields, list with filters, setLabels, spec, delete keeping the snapshot', async () => {
  const c = await client()
  const image = await c.getImage(sb.images.busybox)
  const container = await c.createContainer(uniqueName('meta'), {
    image, args: ['true'], labels: { a: '1', b: '2' }, annotations: { 'example.com/note': 'x' }, hostname: 'box',
    capabilities: { add: ['NET_ADMIN'], drop: ['CAP_CHOWN'] },
  })
  assert.ok(container instanceof Container)
  assert.equal(container.image, sb.images.busybox)
  assert.equal(container.snapshotter, 'overlayfs')
  assert.equal(container.snapshotKey, container.id)
  assert.equal(container.runtime, 'io.containerd.runc.v2')
  assert.ok(container.createdAt instanceof Date)
  const spec = await container.spec()
  assert.equal(spec.hostname, 'box')
  assert.equal(spec.annotations['example.com/note'], 'x')
  assert.ok(spec.process.capabilities.bounding.includes('CAP_NET_ADMIN'))
  assert.ok(!spec.process.capabilities.bounding.includes('CAP_CHOWN'))
  const updated = await container.setLabels({ b: null, c: '3' })
  assert.deepEqual(updated.labels, { a: '1', c: '3' })
  assert.deepEqual((await c.listContainers(['labels.c==3'])).map((x) => x.id), [container.id])
  assert.deepEqual(await c.listContainers(['labels.c==4']), [])
  // snapshot: false skips the explicit removal; containerd's collector still takes an
  // unreferenced snapshot later, so only the record is checked here.
  await container.delete({ snapshot: false })
  await rejectsWith(c.getContainer(container.id), NotFoundError)
  await c.close()
})

test('bad input is InvalidArgumentError and leaves nothing; duplicates are AlreadyExistsError', async () => {
  const c = await client()
  const before = snapshotKeys(c.namespace)
  const image = sb.images.busybox
  const bad = [
    ['bad id', { image }, /container id/],
    [uniqueName('x'), { image, mounts: [{ source: tmp, destination: 'relative' }] }, /destination/],
    [uniqueName('x'), { image, user: 'nobody-here' }, /user/],
    [uniqueName('x'), { image, user: 'root:nogroup-here' }, /group/],
    [uniqueName('x'), { image, memoryLimitBytes: -5 }, /memory/],
    [uniqueName('x'), { image, cpus: 0 }, /cpus/],
    [uniqueName('x'), { image, capabilities: { add: ['CAP_FLY'] } }, /CAP_FLY/],
    [uniqueName('x'), { image, env: ['NOEQUALS'] }, /env/],
    [uniqueName('x'), { image: 42 }, /image/],
    [uniqueName('x'), { image, args: 'ls' }, /args/],
  ]
  for (const [id, options, pattern] of bad) await rejectsWith(c.createContainer(id, options), InvalidArgumentError, pattern)
  await rejectsWith(c.createContainer(uniqueName('x'), { image: `${sb.registry}/never-pulled:latest` }), NotFoundError)
  assert.deepEqual(snapshotKeys(c.namespace), before)
  assert.deepEqual(await c.listContainers(), [])
  const id = uniqueName('dup')
  await c.createContainer(id, { image, args: ['true'] })
  await rejectsWith(c.createContainer(id, { image, args: ['true'] }), AlreadyExistsError)
  await (await c.getContainer(id)).delete()
  assert.deepEqual(snapshotKeys(c.namespace), before)
  await rejectsWith(c.getContainer(id), NotFoundError)
  await c.close()
})
