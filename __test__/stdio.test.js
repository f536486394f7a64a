'use strict'
// Stdio as Node streams, stdin, TTY, exec and run() against the real daemon and runc.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const dns = require('node:dns/promises')
const fs = require('node:fs')
const { Client, AlreadyExistsError, DeadlineExceededError, CancelledError, InvalidArgumentError, NotFoundError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const lines = (text) => text.split('\n').filter(Boolean)
const read = (stream) => new Promise((resolve, reject) => {
  const chunks = []
  stream.on('data', (c) => chunks.push(c))
  stream.on('end', () => resolve(Buffer.concat(chunks).toString()))
  stream.on('error', reject)
})

async function client() {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('io') })
  await c.pull(sb.images.busybox)
  return c
}

/** Nothing run() may leave: containers, tasks, or snapshots other than images' layers. */
function assertClean(ns) {
  assert.deepEqual(lines(ctr(ns, 'containers', 'ls', '-q')), [], 'containers left')
  assert.deepEqual(lines(ctr(ns, 'tasks', 'ls', '-q')), [], 'tasks left')
  const snapshots = lines(ctr(ns, 'snapshots', 'ls')).slice(1).map((l) => l.split(/\s+/)[0])
  assert.deepEqual(snapshots.filter((k) => !k.startsWith('sha256:')), [], 'container snapshots left')
  assert.ok(snapshots.includes(sb.fixtures.busybox.platforms[0].layers[0].diffId))
}

async function sleeper(c, extra = {}) {
  const container = await c.createContainer(uniqueName('host'), { image: sb.images.busybox, args: ['sleep', '300'], ...extra })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  return { container, task }
}

test('task stdout/stderr are Node streams that end with the process; stdin round-trips through cat', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('cat'), { image: sb.images.busybox, args: ['sh', '-c', 'cat; echo bye >&2'] })
  const task = await container.newTask({ stdin: true })
  const [out, err] = [read(task.stdout), read(task.stderr)]
  await task.start()
  task.stdin.write('line one\n')
  task.stdin.end('line two\n')
  assert.deepEqual(await Promise.all([out, err]), ['line one\nline two\n', 'bye\n'])
  assert.equal((await task.wait()).exitCode, 0)
  await task.delete()
  await container.delete()
  await c.close()
})

test('exec: exit code and output, env/cwd/user, stdin, a TTY and resize', async () => {
  const c = await client()
  const { container, task } = await sleeper(c)
  const p = await task.exec('e1', { args: ['sh', '-c', 'echo "$X $(pwd) $(id -un)"; exit 5'], env: { X: 'y' }, cwd: '/tmp', user: 'nobody' })
  assert.equal(p.pid, 0)
  const out = read(p.stdout)
  await p.start()
  assert.ok(p.pid > 0)
  assert.equal((await p.wait()).exitCode, 5)
  assert.equal(await out, 'y /tmp nobody\n')
  assert.equal((await p.delete()).exitCode, 5)
  await rejectsWith(task.exec('e1', { args: ['true'] }).then(async (x) => { await x.start(); return task.exec('e1', { args: ['true'] }) }), AlreadyExistsError)
  await rejectsWith(task.exec('bad id', { args: ['true'] }), InvalidArgumentError, /exec id/)
  await rejectsWith(task.exec('e2', { args: [] }), InvalidArgumentError, /args/)

  const cat = await task.exec('cat', { args: ['cat'], stdin: true })
  const catOut = read(cat.stdout)
  await cat.start()
  cat.stdin.end('through cat\n')
  assert.equal(await catOut, 'through cat\n')
  assert.equal((await cat.wait()).exitCode, 0)
  await cat.delete()

  const tty = await task.exec('tty', { args: ['sh', '-c', 'test -t 0 && echo is-a-tty; read go; stty size'], tty: true, stdin: true })
  assert.equal(tty.stderr, null)
  const ttyOut = read(tty.stdout)
  await tty.start()
  await tty.resize(123, 45)
  tty.stdin.write('go\n')
  assert.equal((await tty.wait()).exitCode, 0)
  const text = await ttyOut
  assert.match(text, /is-a-tty/)
  assert.match(text, /45 123/)
  await tty.delete()
  await task.kill('SIGKILL')
  await task.wait()
  await task.delete()
  await container.delete()
  await c.close()
})

test('50 MiB of random bytes arrive complete, backpressure reaches the container, memory stays bounded', async () => {
  const c = await client()
  const size = 50 * 1024 * 1024
  const container = await c.createContainer(uniqueName('big'), {
    image: sb.images.busybox,
    args: ['sh', '-c', `head -c ${size} /dev/urandom > /tmp/data && sha256sum /tmp/data >&2 && cat /tmp/data`],
  })
  const task = await container.newTask()
  // Garbage is collected at each sample (scripts/run-tests.js runs node with --expose-gc), so RSS
  // shows what is really held, not what awaits collection.
  assert.equal(typeof global.gc, 'function', 'run the tests with node --expose-gc')
  const gc = global.gc
  gc()
  const base = process.memoryUsage().rss
  const hash = crypto.createHash('sha256')
  let bytes = 0
  let peak = 0
  let nextSample = 0
  let paused = false
  let bufferedWhilePaused = 0
  const done = new Promise((resolve, reject) => {
    task.stdout.on('data', (chunk) => {
      hash.update(chunk)
      bytes += chunk.length
      if (bytes >= nextSample) {
        nextSample += 5 * 1024 * 1024
        gc()
        peak = Math.max(peak, process.memoryUsage().rss - base)
      }
      if (!paused && bytes > 8 * 1024 * 1024) {
        // A slow reader: for a second nothing is read; the pipe fills and the writer blocks.
        paused = true
        task.stdout.pause()
        setTimeout(() => {
          bufferedWhilePaused = task.stdout.readableLength
          task.stdout.resume()
        }, 1000)
      }
    })
    task.stdout.on('end', resolve)
    task.stdout.on('error', reject)
  })
  const err = read(task.stderr)
  await task.start()
  await done
  assert.equal(bytes, size)
  assert.equal((await err).split(/\s+/)[0], hash.digest('hex'))
  assert.ok(bufferedWhilePaused < 1024 * 1024, `${bufferedWhilePaused} bytes piled up in Node while paused`)
  assert.ok(peak < 24 * 1024 * 1024, `rss grew by ${Math.round(peak / 1048576)} MiB while streaming`)
  assert.equal((await task.wait()).exitCode, 0)
  await task.delete()
  await container.delete()
  await c.close()
})

test('stdio of 50 concurrent tasks does not stall fs or dns work', async () => {
  const c = await client()
  const tasks = []
  const received = []
  for (let i = 0; i < 50; i++) {
    const container = await c.createContainer(uniqueName('chatty'), {
      image: sb.images.busybox, args: ['sh', '-c', 'while :; do echo tick; sleep 0.2; done'],
    })
    const task = await container.newTask()
    task.stdout.on('data', () => { received[i] = true })
    await task.start()
    tasks.push({ container, task })
  }
  // With a thread-pool thread blocked per FIFO read (fs streams), these would wait behind them.
  const started = Date.now()
  await Promise.all(Array.from({ length: 16 }, () => fs.promises.readFile(__filename)))
  await dns.lookup('localhost')
  const took = Date.now() - started
  assert.ok(took < 2000, `fs/dns work took ${took} ms with 50 tasks attached`)
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(received.filter(Boolean).length, 50)
  await Promise.all(tasks.map(async ({ container, task }) => {
    await task.kill('SIGKILL')
    await task.wait()
    await task.delete()
    await container.delete()
  }))
  assertClean(c.namespace)
  await c.close()
})

test('run(): exit codes, stdout, stderr, input, pulling a missing image', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('io') })
  const r = await c.run(sb.images.busybox, ['sh', '-c', 'echo out; echo err >&2; exit 3'])
  assert.deepEqual({ ...r, exitedAt: undefined }, { exitCode: 3, stdout: 'out\n', stderr: 'err\n', exitedAt: undefined })
  assert.ok(r.exitedAt instanceof Date)
  assert.equal((await c.run(sb.images.busybox, ['tr', 'a-z', 'A-Z'], { input: 'shout\n' })).stdout, 'SHOUT\n')
  assert.equal((await c.run(sb.images.busybox, ['wc', '-c'], { input: Buffer.alloc(100000, 1) })).stdout.trim(), '100000')
  assert.equal((await c.run(sb.images.busybox, ['sh', '-c', 'echo $A'], { env: { A: 'from-env' }, id: 'fixed-id' })).stdout, 'from-env\n')
  await rejectsWith(c.run(`${sb.registry}/multilayer:latest`, ['true'], { pull: false }), NotFoundError)
  assert.equal((await c.run(sb.images.multilayer, ['cat', '/data/keep.txt'], { pull: { unpack: true } })).stdout, 'keep\n')
  assertClean(c.namespace)
  await c.close()
})

test('run(): timeout kills and reports the output so far; abort rejects; nothing is left', async () => {
  const c = await client()
  const started = Date.now()
  const err = await rejectsWith(c.run(sb.images.busybox, ['sh', '-c', 'echo partial; sleep 60'], { timeoutMs: 500 }), DeadlineExceededError)
  assert.equal(err.stdout, 'partial\n')
  assert.equal(err.stderr, '')
  assert.ok(Date.now() - started < 10000)
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  await rejectsWith(c.run(sb.images.busybox, ['sleep', '60'], { signal: controller.signal }), CancelledError)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { signal: AbortSignal.abort() }), CancelledError)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { id: 'bad id' }), InvalidArgumentError)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { input: 42 }), InvalidArgumentError, /input/)
  assertClean(c.namespace)
  await c.close()
})

test('20 concurrent run() calls all succeed and leave nothing behind', async () => {
  const c = await client()
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.run(sb.images.busybox, ['sh', '-c', `echo ${i}`])))
  results.forEach((r, i) => assert.deepEqual([r.exitCode, r.stdout], [0, `${i}\n`]))
  assertClean(c.namespace)
  await c.close()
})
