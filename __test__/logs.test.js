'use strict'
// Container logs (issue 17): the shim's logger records output with time and stream, rotates it,
// and logs() reads it back from any process, follows it across task restarts, and ends on delete.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const {
  Client, CancelledError, FailedPreconditionError, InvalidArgumentError, NotFoundError,
} = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const LOG_ROOT = process.env.CONTAINERD_NAPI_LOG_ROOT || '/var/lib/containerd-napi/logs'

async function client(ns = uniqueName('logs')) {
  const c = await Client.connect({ address: sb.address, namespace: ns })
  await c.pull(sb.images.busybox)
  return c
}

async function collect(iterable) {
  const out = []
  for await (const r of iterable) out.push(r)
  return out
}

/** Runs a task of `container` to its end and deletes it. */
async function runTask(container, options) {
  const task = await container.newTask(options)
  await task.start()
  const status = await task.wait()
  await task.delete()
  return status
}

/** Largest VmRSS (KiB) seen of the logger process writing to `dir`, sampled until `until` settles. */
async function loggerRss(dir, until) {
  let max = 0
  let done = false
  until.finally(() => { done = true })
  while (!done) {
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        if (!cmd.includes('containerd-napi-logger') || !cmd.includes(dir)) continue
        const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
        max = Math.max(max, rss)
      } catch { /* gone */ }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return max
}

test('a logged container outlives the process that started it: a new process reads every line with stream and time', async () => {
  const ns = uniqueName('logs')
  const id = uniqueName('outlive')
  const script = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const c = await Client.connect({ address: ${JSON.stringify(sb.address)}, namespace: ${JSON.stringify(ns)} })
      await c.pull(${JSON.stringify(sb.images.busybox)})
      const container = await c.createContainer(${JSON.stringify(id)}, {
        image: ${JSON.stringify(sb.images.busybox)},
        args: ['sh', '-c', 'echo out-1; echo err-1 >&2; sleep 1; echo out-2; echo err-2 >&2'],
        log: true,
      })
      const task = await container.newTask()   // stdio 'log' by default
      if (task.stdout !== null) throw new Error('a logged task has no streams')
      await task.start()
      console.log(Date.now())
      process.exit(0)                          // no wait, no close: the logger is the shim's
    })().catch((e) => { console.error(e); process.exit(1) })`
  const before = Date.now()
  const started = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], (err, stdout, stderr) => err ? reject(new Error(stderr || err.message)) : resolve(Number(stdout)))
  })
  const c = await Client.connect({ address: sb.address, namespace: ns })
  const container = await c.getContainer(id)
  assert.equal(container.labels['containerd-napi/log.dir'], path.join(LOG_ROOT, ns, id))
  const binary = container.labels['containerd-napi/log.binary']
  assert.match(binary, /^\/var\/lib\/containerd-napi\/bin\/containerd-napi-logger-[0-9a-f]{16}$/)
  const st = fs.lstatSync(binary)
  assert.ok(st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0, 'the installed logger is root-owned, not group/world-writable')
  const task = await container.task()
  assert.equal((await task.wait()).exitCode, 0)
  await task.delete()
  const after = Date.now()

  const records = await collect(container.logs())
  // stdout and stderr are read by two threads: within one instant either may come first.
  const byStream = (s) => records.filter((r) => r.stream === s)
  assert.equal(records.length, 4)
  assert.deepEqual(byStream('stdout').map((r) => r.line), ['out-1', 'out-2'])
  assert.deepEqual(byStream('stderr').map((r) => r.line), ['err-1', 'err-2'])
  for (const r of records) {
    assert.ok(r.time instanceof Date)
    assert.ok(r.time.getTime() >= before && r.time.getTime() <= after, `${r.time.toISOString()} within the run`)
  }
  const [out1, out2] = byStream('stdout')
  assert.ok(Math.abs(out1.time.getTime() - started) < 1000, 'out-1 within the second the task started')
  assert.ok(out2.time - out1.time >= 900 && out2.time - out1.time < 2000, 'out-2 a second later')
  // The files: root-owned, private directory, JSON lines.
  const dir = path.join(LOG_ROOT, ns, id)
  const dirStat = fs.lstatSync(dir)
  assert.ok(dirStat.isDirectory() && dirStat.uid === 0 && (dirStat.mode & 0o077) === 0)
  const first = JSON.parse(fs.readFileSync(path.join(dir, 'container.log'), 'utf8').split('\n')[0])
  assert.deepEqual(Object.keys(first), ['time', 'stream', 'line'])
  assert.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)

  await container.delete()
  assert.equal(fs.existsSync(dir), false, 'delete() removes the log directory')
  await c.close()
})

test('rotation: 5 MiB of lines with maxSizeBytes 1 MiB and maxFiles 2 keep at most 2 MiB + a record; tail', async () => {
  const c = await client()
  const id = uniqueName('rotate')
  const lines = 50000
  // ~100 bytes a line, 5 MB in all.
  const awk = `BEGIN { for (i = 0; i < ${lines}; i++) printf "line %06d %s\\n", i, "${'x'.repeat(88)}" }`
  const container = await c.createContainer(id, { image: sb.images.busybox, args: ['awk', awk], log: { maxSizeBytes: 1 << 20, maxFiles: 2 } })
  assert.equal((await runTask(container)).exitCode, 0)
  const dir = container.labels['containerd-napi/log.dir']
  const files = fs.readdirSync(dir).sort()
  assert.deepEqual(files, ['container.log', 'container.log.1'])
  const total = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
  assert.ok(total <= 2 * (1 << 20) + 200, `${total} bytes on disk`)
  for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).size <= 1 << 20)

  const records = await collect(container.logs())
  const numbers = records.map((r) => Number(/^line (\d+) /.exec(r.line)[1]))
  assert.equal(numbers.at(-1), lines - 1, 'the newest line is there')
  assert.ok(records.every((r) => r.stream === 'stdout' && r.dropped === undefined))
  assert.ok(numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1), 'the newest lines, in order, without gaps')
  // Between one and two full files of ~170-byte records.
  assert.ok(numbers.length > (1 << 20) / 200, `${numbers.length} lines kept`)
  assert.deepEqual((await collect(container.logs({ tail: 10 }))).map((r) => r.line.slice(0, 11)),
    Array.from({ length: 10 }, (_, i) => `line ${String(lines - 10 + i).padStart(6, '0')}`))
  // since/until select by time.
  const mid = records[Math.floor(records.length / 2)].time
  const later = await collect(container.logs({ since: mid }))
  assert.ok(later.length > 0 && later.length < records.length && later.every((r) => r.time >= mid))
  const earlier = await collect(container.logs({ until: mid }))
  assert.ok(earlier.every((r) => r.time < mid))
  await container.delete()
  await c.close()
})

test('follow: lines written after it started, across a task restart; ends when the container is deleted; abort is a CancelledError', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('follow'), {
    image: sb.images.busybox, args: ['sh', '-c', 'echo run; sleep 0.3; echo done >&2'], log: true,
  })
  const seen = []
  const followed = (async () => {
    for await (const r of container.logs({ follow: true })) seen.push(`${r.stream}:${r.line}`)
    return 'ended'
  })()
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(seen, [], 'nothing before the first task')
  await runTask(container)
  await runTask(container)   // a second task: a new logger appends to the same log
  const deadline = Date.now() + 5000
  while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen, ['stdout:run', 'stderr:done', 'stdout:run', 'stderr:done'])
  await container.delete()
  assert.equal(await followed, 'ended', 'follow ends when the container is deleted')

  // Abort: CancelledError (name AbortError), from a follow that is waiting.
  const other = await c.createContainer(uniqueName('abort'), { image: sb.images.busybox, args: ['true'], log: true })
  const controller = new AbortController()
  const it = other.logs({ follow: true, signal: controller.signal })
  const pending = it.next()
  setTimeout(() => controller.abort(), 200)
  const err = await rejectsWith(pending, CancelledError)
  assert.equal(err.name, 'AbortError')
  assert.deepEqual(await it.next(), { done: true, value: undefined })
  await other.delete()
  await c.close()
})

test('throughput: a container writing as fast as it can, with the log vs stdio ignore; the logger RSS', async (t) => {
  const c = await client()
  const lines = 1_000_000
  const args = ['sh', '-c', `yes 'a line of output, about sixty-four bytes long, for throughput.' | head -n ${lines}`]
  const timed = async (options, extra) => {
    const container = await c.createContainer(uniqueName('rate'), { image: sb.images.busybox, args, ...extra })
    const task = await container.newTask(options)
    const t0 = process.hrtime.bigint()
    await task.start()
    const done = task.wait()
    const rss = extra.log ? loggerRss(container.labels['containerd-napi/log.dir'], done) : Promise.resolve(0)
    await done
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    await task.delete()
    return { container, seconds, rss: await rss }
  }
  const ignore = await timed({ stdio: 'ignore' }, {})
  // The shim appending raw output to a file: what `ctr run --log-uri file://…` does.
  const fileDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'cnapi-logfile-'))
  const file = await timed({ logFile: path.join(fileDir, 'out.log') }, {})
  fs.rmSync(fileDir, { recursive: true })
  const logged = await timed(undefined, { log: { maxSizeBytes: 64 << 20, maxFiles: 2 } })
  let recorded = 0
  let dropped = 0
  for await (const r of logged.container.logs()) {
    if (r.dropped !== undefined) dropped += r.dropped
    else recorded++
  }
  const rate = (s) => Math.round(lines / s)
  t.diagnostic(`lines/s: ignore ${rate(ignore.seconds)}, logFile ${rate(file.seconds)}, log ${rate(logged.seconds)} (${recorded} recorded, ${dropped} bytes dropped); logger max RSS ${logged.rss} KiB`)
  assert.ok(recorded > 0)
  assert.ok(recorded === lines || dropped > 0, 'every line is recorded, or the drop is recorded')
  assert.ok(logged.rss > 0 && logged.rss < 16 * 1024, `logger RSS ${logged.rss} KiB`)
  // Never blocked by its logger: within a small factor of writing to /dev/null.
  assert.ok(logged.seconds < ignore.seconds * 10 + 2, `log ${logged.seconds}s vs ignore ${ignore.seconds}s`)
  await ignore.container.delete()
  await file.container.delete()
  await logged.container.delete()
  await c.close()
})

test('bad input: typed errors, nothing made', async () => {
  const c = await client()
  const plain = await c.createContainer(uniqueName('plain'), { image: sb.images.busybox, args: ['true'] })
  const it = plain.logs()     // lazily: rejects on the first next()
  await rejectsWith(it.next(), NotFoundError, /no log/)
  await rejectsWith(plain.newTask({ stdio: 'log' }), FailedPreconditionError, /not created with log/)
  await plain.delete()

  for (const log of [{ maxSizeBytes: -1 }, { maxSizeBytes: 100 }, { maxFiles: 0 }, { maxFiles: -3 }, { maxSizeBytes: 1.5 }]) {
    const id = uniqueName('bad')
    await rejectsWith(c.createContainer(id, { image: sb.images.busybox, log }), InvalidArgumentError)
    await rejectsWith(c.getContainer(id), NotFoundError)
    assert.equal(fs.existsSync(path.join(LOG_ROOT, c.namespace, id)), false)
  }
  await rejectsWith(c.createContainer(uniqueName('bad'), { image: sb.images.busybox, log: 'yes' }), InvalidArgumentError)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { log: true }), InvalidArgumentError, /run\(\)/)

  const logged = await c.createContainer(uniqueName('logged'), { image: sb.images.busybox, args: ['true'], log: true })
  await rejectsWith(logged.newTask({ logFile: '/tmp/x.log' }), InvalidArgumentError, /logFile/)
  await rejectsWith(logged.newTask({ stdio: 'log', logFile: '/tmp/x.log' }), InvalidArgumentError)
  await rejectsWith(logged.newTask({ stdin: true }), InvalidArgumentError, /stdin/)
  assert.throws(() => logged.logs({ tail: 'ten' }), InvalidArgumentError)
  await rejectsWith(logged.logs({ tail: -1 }).next(), InvalidArgumentError)
  // Other stdio stays possible (not recorded).
  assert.equal((await runTask(logged, { stdio: 'ignore' })).exitCode, 0)
  assert.deepEqual(await collect(logged.logs()), [])
  await logged.delete()

  if (sb.tcpAddress) {
    const remote = await Client.connect({ address: sb.tcpAddress, namespace: c.namespace })
    const id = uniqueName('remote')
    await rejectsWith(remote.createContainer(id, { image: sb.images.busybox, log: true }), FailedPreconditionError, /on this host/)
    await rejectsWith(remote.getContainer(id), NotFoundError)
    await remote.close()
  }
  await c.close()
})
