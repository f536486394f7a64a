// The runtime smoke: the package's main paths in one short program that Node, Deno and Bun all
// run unchanged (an ES module importing the package's ESM face, index.mjs). __test__/runtimes.test.js
// runs it under each runtime against the test sandbox ($CONTAINERD_NAPI_SANDBOX). It prints one
// JSON line per step ({ step, ok, ms, error? }) and exits 1 at the first failure.
import { Buffer } from 'node:buffer'
import fs from 'node:fs'
import process from 'node:process'
import {
  Client, ContainerdError, NotFoundError, InvalidArgumentError, CancelledError, Task, Process, EventStream,
} from '../../index.mjs'

const sb = JSON.parse(fs.readFileSync(process.env.CONTAINERD_NAPI_SANDBOX, 'utf8'))
const namespace = `smoke-${process.env.SMOKE_RUNTIME ?? 'x'}-${process.pid}`

function check(condition, message) {
  if (!condition) throw new Error(message)
}
function equal(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
}
function read(stream) {
  return new Promise((resolve, reject) => {
    const chunks = []
    stream.on('data', (c) => chunks.push(Buffer.from(c)))
    stream.on('end', () => resolve(Buffer.concat(chunks).toString()))
    stream.on('error', reject)
  })
}
async function rejects(promise, cls) {
  try {
    await promise
  } catch (err) {
    check(err instanceof cls, `expected ${cls.name}, got ${err?.name}: ${err?.message}`)
    return err
  }
  throw new Error(`expected ${cls.name}, got success`)
}

const steps = []
function step(name, fn) {
  steps.push([name, fn])
}

let client
let image
let events
const exits = []

step('connect', async () => {
  client = await Client.connect({ address: sb.address, namespace, timeoutMs: 5000 })
  equal(client.namespace, namespace, 'namespace')
})
step('version', async () => {
  const v = await client.version()
  check(/^\d+\.\d+/.test(v.version), `version ${v.version}`)
})
step('short calls: on the JS thread under Node only (Deno and Bun do not run libuv)', async () => {
  const THREAD_CALLS = Symbol.for('containerd-napi.threadCallCount')
  const before = client[THREAD_CALLS]
  await client.version()
  const node = !globalThis.Deno && !globalThis.Bun
  equal(client[THREAD_CALLS] - before, node ? 1 : 0, 'calls over the JS thread connection')
})
step('events', async () => {
  events = client.subscribe({ filters: ['topic=="/tasks/exit"'] })
  check(events instanceof EventStream, 'an EventStream')
  await events.ready
  // Collected in the background; checked after the tasks below exited.
  ;(async () => { for await (const e of events) exits.push(e) })().catch(() => {})
})
step('pull with progress', async () => {
  const reports = []
  image = await client.pull(sb.images.busybox, { onProgress: (p) => reports.push(p) })
  check(reports.length > 0, 'no progress reports')
  equal(reports.at(-1).phase, 'done', 'last phase')
})
step('task: streamed stdout/stderr and stdin', async () => {
  const container = await client.createContainer('cat', { image, args: ['sh', '-c', 'cat; echo bye >&2'] })
  const task = await container.newTask({ stdin: true })
  check(task instanceof Task, 'a Task')
  const [out, err] = [read(task.stdout), read(task.stderr)]
  await task.start()
  task.stdin.write('line one\n')
  task.stdin.end('line two\n')
  equal(await out, 'line one\nline two\n', 'stdout')
  equal(await err, 'bye\n', 'stderr')
  equal((await task.wait()).exitCode, 0, 'exit code')
  await task.delete()
  await container.delete()
})
step('exec', async () => {
  const container = await client.createContainer('sleeper', { image, args: ['sleep', '300'] })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const p = await task.exec('e1', { args: ['sh', '-c', 'echo "$X"; exit 3'], env: { X: 'from exec' } })
  check(p instanceof Process, 'a Process')
  const out = read(p.stdout)
  await p.start()
  equal((await p.wait()).exitCode, 3, 'exec exit code')
  equal(await out, 'from exec\n', 'exec stdout')
  await p.delete()
  // `await using` (Symbol.asyncDispose) on a running exec process: killed, waited for, deleted.
  const sleeper = await task.exec('e2', { args: ['sleep', '30'], stdio: 'ignore' })
  await sleeper.start()
  await sleeper[Symbol.asyncDispose]()
  await (await task.exec('e2', { args: ['true'], stdio: 'ignore' })).delete()
  await task.kill('SIGKILL')
  await task.wait()
  await task.delete()
  await container.delete()
})
step('run', async () => {
  const r = await client.run(image, ['sh', '-c', 'cat; echo err >&2; exit 2'], { input: 'in' })
  equal(r.exitCode, 2, 'run exit code')
  equal(r.stdout, 'in', 'run stdout')
  equal(r.stderr, 'err\n', 'run stderr')
})
step('events seen', async () => {
  const deadline = Date.now() + 5000
  while (exits.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  check(exits.length >= 3, `expected 3 /tasks/exit events, got ${exits.length}`)
  check(exits.every((e) => e.topic === '/tasks/exit' && e.namespace === namespace && e.timestamp instanceof Date), 'event shape')
  await events[Symbol.asyncDispose]()
  equal((await events.next()).done, true, 'a disposed stream is done')
})
step('typed errors', async () => {
  const missing = await rejects(client.getContainer('nope'), NotFoundError)
  check(missing instanceof ContainerdError, 'a ContainerdError')
  equal(missing.code, 'NOT_FOUND', 'code')
  await rejects(client.createNamespace('not a name'), InvalidArgumentError)
})
step('abort', async () => {
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 200)
  const started = Date.now()
  const err = await rejects(client.run(image, ['sleep', '30'], { signal: controller.signal }), CancelledError)
  equal(err.name, 'AbortError', 'name')
  check(Date.now() - started < 10000, 'not prompt')
})
step('cleanup', async () => {
  for (const c of await client.listContainers()) await c.delete()
  for (const i of await client.listImages()) await client.deleteImage(i.name)
  await client.close()
})

let failed = false
for (const [name, fn] of steps) {
  const started = performance.now()
  try {
    await fn()
    console.log(JSON.stringify({ step: name, ok: true, ms: Math.round(performance.now() - started) }))
  } catch (err) {
    console.log(JSON.stringify({ step: name, ok: false, ms: Math.round(performance.now() - started), error: String(err?.stack ?? err) }))
    failed = true
    break
  }
}
process.exit(failed ? 1 : 0)
