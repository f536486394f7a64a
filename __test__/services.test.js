'use strict'
// Long-running services against the real daemon: restart policies through containerd's restart
// monitor (the test stack checks every 1 s), Task.update() into the cgroup files, Task.stats(),
// and a missing executable as a NotFoundError.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')
const { Client, NotFoundError, InvalidArgumentError, FailedPreconditionError, CancelledError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const STATUS = 'containerd.io/restart.status'
/** The monitor's interval in the test stack, plus a margin for a loaded machine. */
const RESTART_WITHIN_MS = 1000 + 5000

async function client() {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('svc') })
  await c.pull(sb.images.busybox)
  return c
}

/** Polls the container's task until it runs with a pid other than `oldPid`; resolves with { pid, ms }. */
async function cameBack(c, id, oldPid, within = RESTART_WITHIN_MS) {
  const started = Date.now()
  while (Date.now() - started < within) {
    try {
      const task = await (await c.getContainer(id)).task()
      if (task.pid !== oldPid && (await task.status()).status === 'running') return { pid: task.pid, ms: Date.now() - started }
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
    }
    await sleep(100)
  }
  return null
}

function alive(pid) {
  try { process.kill(pid, 0); return true } catch { return false }
}

/** The task's cgroup file: v1 `<controller>/<ns>/<id>/<v1>` if there is one, else v2 `<ns>/<id>/<v2>`. */
function cgroupFile(c, id, controller, v1, v2) {
  const file1 = `/sys/fs/cgroup/${controller}/${c.namespace}/${id}/${v1}`
  return fs.existsSync(file1) ? file1 : `/sys/fs/cgroup/${c.namespace}/${id}/${v2}`
}

test("restart 'always': a task killed from outside comes back with a new pid; so does one killed through the API; nothing after dispose", async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('always'), { image: sb.images.busybox, args: ['sleep', '300'], restart: 'always' })
  assert.equal(container.labels['containerd-napi/restart'], 'always')
  assert.equal(container.labels[STATUS], undefined, 'set at start, not at create')
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  assert.equal((await c.getContainer(container.id)).labels[STATUS], 'running')

  process.kill(task.pid, 'SIGKILL') // from outside the API
  const back = await cameBack(c, container.id, task.pid)
  assert.ok(back, `no new task within ${RESTART_WITHIN_MS} ms`)
  assert.ok(!alive(task.pid))

  const again = await (await c.getContainer(container.id)).task()
  await again.kill('SIGKILL')
  assert.ok(await cameBack(c, container.id, back.pid), "'always' comes back after a kill through the API too")

  const current = await (await c.getContainer(container.id)).task()
  await container[Symbol.asyncDispose]()
  await sleep(2500) // more than two monitor rounds
  await rejectsWith(c.getContainer(container.id), NotFoundError)
  assert.ok(!(await c.listTasks()).some((t) => t.id === container.id))
  assert.ok(!alive(current.pid))
  await c.close()
})

test("restart 'unless-stopped': comes back from an outside kill, stays stopped after kill() through the API", async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('unless'), { image: sb.images.busybox, args: ['sleep', '300'], restart: 'unless-stopped' })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  process.kill(task.pid, 'SIGKILL')
  const back = await cameBack(c, container.id, task.pid)
  assert.ok(back)

  const current = await (await c.getContainer(container.id)).task()
  await current.kill('SIGKILL')
  await current.wait()
  await sleep(3000)
  assert.equal((await current.status()).status, 'stopped')
  assert.equal((await c.getContainer(container.id)).labels[STATUS], undefined)
  await current.delete()
  await container.delete()
  await c.close()
})

test("restart 'on-failure' on containerd 1.6: FailedPreconditionError naming 1.7; bad policies: InvalidArgumentError; nothing made", async () => {
  const c = await client()
  const { version } = await c.version()
  const id = uniqueName('onfail')
  if (/^v?1\.6\./.test(version)) {
    await rejectsWith(c.createContainer(id, { image: sb.images.busybox, restart: 'on-failure' }), FailedPreconditionError, /containerd 1\.7/)
    await rejectsWith(c.createContainer(id, { image: sb.images.busybox, restart: 'on-failure:3' }), FailedPreconditionError, /1\.7/)
  }
  for (const bad of ['sometimes', 'Always', 'on-failure:0', 'on-failure:-1', '']) {
    await rejectsWith(c.createContainer(id, { image: sb.images.busybox, restart: bad }), InvalidArgumentError, /restart policy/)
  }
  await rejectsWith(c.createContainer(id, { image: sb.images.busybox, restart: 1 }), InvalidArgumentError, /options\.restart/)
  await rejectsWith(c.getContainer(id), NotFoundError)
  assert.deepEqual(await c.listContainers(), [])
  await rejectsWith(c.run(sb.images.busybox, ['true'], { restart: 'always' }), InvalidArgumentError, /restart/)
  await c.close()
})

test('a log: true container restarted by the monitor keeps logging (restart.loguri)', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('logged'), {
    image: sb.images.busybox, args: ['sh', '-c', 'echo started; sleep 300'], restart: 'always', log: true,
  })
  assert.match(container.labels['containerd.io/restart.loguri'], /^binary:\/\//)
  const task = await container.newTask()
  await task.start()
  process.kill(task.pid, 'SIGKILL')
  assert.ok(await cameBack(c, container.id, task.pid))
  let lines = []
  for (let i = 0; i < 50 && lines.length < 2; i++) {
    lines = []
    for await (const r of container.logs()) if (r.line === 'started') lines.push(r)
    if (lines.length < 2) await sleep(100)
  }
  assert.equal(lines.length, 2, 'the restarted task logged too')
  await container[Symbol.asyncDispose]()
  await c.close()
})

test('Container.update({ restart, labels }): puts a running task under a policy and takes it off again; {} changes nothing', async () => {
  const c = await client()
  let container = await c.createContainer(uniqueName('upd'), { image: sb.images.busybox, args: ['sleep', '300'], labels: { keep: 'me' } })
  const unchanged = await container.update({})
  assert.deepEqual(unchanged.labels, container.labels)
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()

  container = await container.update({ restart: 'always', labels: { tier: 'front', keep: null } })
  assert.equal(container.labels[STATUS], 'running')
  assert.equal(container.labels.tier, 'front')
  assert.equal(container.labels.keep, undefined)
  process.kill(task.pid, 'SIGKILL')
  const back = await cameBack(c, container.id, task.pid)
  assert.ok(back)

  await rejectsWith(container.update({ restart: 'bogus' }), InvalidArgumentError, /restart policy/)
  await rejectsWith(container.update({ restart: 'always', colour: 'red' }), InvalidArgumentError, /colour/)
  assert.deepEqual((await c.getContainer(container.id)).labels, container.labels, 'nothing changed')

  container = await container.update({ restart: 'no' })
  assert.equal(container.labels[STATUS], undefined)
  assert.equal(container.labels['containerd-napi/restart'], undefined)
  process.kill(back.pid, 'SIGKILL')
  assert.equal(await cameBack(c, container.id, back.pid, 3000), null, "'no': stays stopped")
  await container[Symbol.asyncDispose]()
  await c.close()
})

test('Task.update(): memory, pids and CPU quota land in the cgroup files; bad values change nothing; a stopped task is FailedPreconditionError', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('res'), { image: sb.images.busybox, args: ['sleep', '300'], memoryLimitBytes: 64 << 20 })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const memFile = cgroupFile(c, container.id, 'memory', 'memory.limit_in_bytes', 'memory.max')
  const pidsFile = cgroupFile(c, container.id, 'pids', 'pids.max', 'pids.max')
  const read = (f) => fs.readFileSync(f, 'utf8').trim()

  await task.update({ memoryLimitBytes: 96 << 20 })
  assert.equal(Number(read(memFile)), 96 << 20)
  await task.update({ pidsLimit: 42 })
  assert.equal(read(pidsFile), '42')
  await task.update({ cpus: 0.25 })
  const cpuFile = cgroupFile(c, container.id, 'cpu', 'cpu.cfs_quota_us', 'cpu.max')
  assert.equal(read(cpuFile), cpuFile.endsWith('cpu.max') ? '25000 100000' : '25000')

  for (const bad of [{ memoryLimitBytes: -1 }, { pidsLimit: 0 }, { pidsLimit: 1.5 }, { cpus: -1 }, {}]) {
    await rejectsWith(task.update(bad), InvalidArgumentError)
  }
  await rejectsWith(task.update({ memoryLimitBytes: '1g' }), InvalidArgumentError, /memoryLimitBytes/)
  await rejectsWith(task.update({ memory: 1 }), InvalidArgumentError, /memory/)
  assert.equal(Number(read(memFile)), 96 << 20, 'nothing changed')
  assert.equal(read(pidsFile), '42')

  await task.kill('SIGKILL')
  await task.wait()
  await rejectsWith(task.update({ memoryLimitBytes: 128 << 20 }), FailedPreconditionError, /stopped/)
  await task.delete()
  await container.delete()
  await c.close()
})

test('Task.stats(): samples of a busy loop over 50 % CPU, memory limit when set, ends when the task exits; abort is CancelledError', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('stats'), {
    image: sb.images.busybox, // two loops: over 50 % even on a busy 2-CPU machine
    args: ['sh', '-c', 'while :; do :; done & a=$!; while :; do :; done & b=$!; sleep 3; kill $a $b'], memoryLimitBytes: 64 << 20,
  })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const samples = []
  for await (const s of task.stats({ intervalMs: 300 })) samples.push(s)
  assert.ok(samples.length >= 3, `${samples.length} samples`)
  const busy = samples.filter((s) => s.cpuPercent > 50)
  assert.ok(busy.length >= 3, JSON.stringify(samples.map((s) => s.cpuPercent)))
  for (const s of samples) {
    assert.ok(s.time instanceof Date)
    assert.ok(s.memoryBytes > 0)
    assert.equal(s.memoryLimitBytes, 64 << 20, JSON.stringify(samples))
    assert.ok(s.pids >= 1)
    assert.equal(s.netRxBytes, undefined, 'no network of ours')
  }
  await task.delete()
  await container.delete()

  const idle = await c.createContainer(uniqueName('idle'), { image: sb.images.busybox, args: ['sleep', '300'] })
  const t2 = await idle.newTask({ stdio: 'ignore' })
  await t2.start()
  const controller = new AbortController()
  const seen = []
  await rejectsWith((async () => {
    for await (const s of t2.stats({ intervalMs: 100, signal: controller.signal })) {
      seen.push(s)
      if (seen.length === 2) controller.abort()
    }
  })(), CancelledError)
  assert.equal(seen.length, 2)
  assert.equal(seen[0].memoryLimitBytes, undefined, 'unlimited')
  assert.ok(seen[0].cpuPercent < 50)
  assert.throws(() => t2.stats({ every: 1 }), InvalidArgumentError)
  await rejectsWith(t2.stats({ intervalMs: -5 })[Symbol.asyncIterator]().next(), InvalidArgumentError, /intervalMs/)
  await t2[Symbol.asyncDispose]()
  await idle.delete()
  await c.close()
})

test('a missing executable is a NotFoundError naming it: task start, exec start, run()', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('noexec'), { image: sb.images.busybox, args: ['no-such-program', '-x'] })
  await rejectsWith((async () => {
    const task = await container.newTask({ stdio: 'ignore' })
    await task.start()
  })(), NotFoundError, /"no-such-program"/)
  try { await (await container.task())[Symbol.asyncDispose]() } catch (err) { if (!(err instanceof NotFoundError)) throw err }
  await container.delete()

  const box = await c.createContainer(uniqueName('exec'), { image: sb.images.busybox, args: ['sleep', '300'] })
  const task = await box.newTask({ stdio: 'ignore' })
  await task.start()
  const proc = await task.exec('typo', { args: ['ps;', 'ls', '/'], stdio: 'ignore' })
  await rejectsWith(proc.start(), NotFoundError, /"ps;".*sh/)
  const abs = await task.exec('abs', { args: ['/bin/nope'], stdio: 'ignore' })
  await rejectsWith(abs.start(), NotFoundError, /"\/bin\/nope"/)
  await task[Symbol.asyncDispose]()
  await box.delete()

  await rejectsWith(c.run(sb.images.busybox, ['no-such-program']), NotFoundError, /"no-such-program"/)
  assert.deepEqual(await c.listContainers(), [], 'run() removed its container')
  await c.close()
})

test('Task.stats() of a container on a network of ours: interface counters grow with traffic (over loopback)', async () => {
  const c = await client()
  await c.pull(sb.images.httpd)
  const port = await new Promise((resolve) => {
    const srv = require('node:net').createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)) })
  })
  const container = await c.createContainer(uniqueName('netstats'), {
    image: sb.images.httpd, args: ['httpd', '-f', '-p', '80', '-h', '/var/www'], network: 'bridge', ports: [`127.0.0.1:${port}:80`],
  })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const stats = task.stats({ intervalMs: 200 })
  const first = (await stats.next()).value
  assert.equal(typeof first.netRxBytes, 'number')
  assert.equal(typeof first.netTxBytes, 'number')
  for (let i = 0; i < 50; i++) {
    try { await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })).text(); break } catch { await sleep(100) }
  }
  for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${port}/`)).text()
  const later = (await stats.next()).value
  assert.ok(later.netRxBytes > first.netRxBytes, `${first.netRxBytes} → ${later.netRxBytes}`)
  assert.ok(later.netTxBytes > first.netTxBytes, `${first.netTxBytes} → ${later.netTxBytes}`)
  await stats.return()
  await task[Symbol.asyncDispose]()
  await container.delete()
  await c.close()
})
