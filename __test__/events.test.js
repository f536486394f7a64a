'use strict'
// Events as async iterables, cancellation of long operations, and a Client outliving a daemon
// restart. The restart test runs last: it restarts the sandbox's main containerd.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { Client, CancelledError, UnavailableError, InvalidArgumentError, ResourceExhaustedError } = require('..')
const { restartMain } = require('../scripts/sandbox.js')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const lines = (text) => text.split('\n').filter(Boolean)

async function client() {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('ev') })
  await c.pull(sb.images.busybox)
  return c
}

/** Collects events until `until(events)` holds (or the stream ends). */
async function collect(stream, until) {
  const events = []
  for await (const event of stream) {
    events.push(event)
    if (until(events)) break
  }
  return events
}

test('after ready, one run() yields its full topic sequence in order, decoded', async () => {
  const c = await client()
  const stream = c.subscribe()
  await stream.ready
  const id = uniqueName('seq')
  const done = collect(stream, (evs) => evs.some((e) => e.topic === '/containers/delete' && e.event?.id === id))
  const result = await c.run(sb.images.busybox, ['sh', '-c', 'exit 7'], { id })
  assert.equal(result.exitCode, 7)
  const events = await done
  const mine = events.filter((e) => e.event?.id === id || e.event?.containerId === id || e.event?.key === id)
  const topics = mine.map((e) => e.topic)
  const expected = ['/snapshot/prepare', '/containers/create', '/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete', '/containers/delete', '/snapshot/remove']
  const order = expected.filter((t) => t !== '/snapshot/remove').map((t) => topics.indexOf(t))
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), topics.join(' '))
  const exit = mine.find((e) => e.topic === '/tasks/exit')
  assert.equal(exit.type, 'containerd.events.TaskExit')
  assert.equal(exit.namespace, c.namespace)
  assert.ok(exit.timestamp instanceof Date)
  assert.equal(exit.event.containerId, id)
  assert.equal(exit.event.exitStatus, 7)
  assert.ok(exit.event.exitedAt instanceof Date)
  assert.ok(exit.event.pid > 0)
  const create = mine.find((e) => e.topic === '/containers/create')
  assert.equal(create.event.image, sb.images.busybox)
  assert.equal(create.event.runtime.name, 'io.containerd.runc.v2')
  assert.ok(events.every((e) => e.namespace === c.namespace), 'an event from another namespace leaked in')
  await c.close()
})

test('filters narrow the stream; allNamespaces widens it', async () => {
  const c = await client()
  const exits = c.subscribe({ filters: ['topic=="/tasks/exit"'] })
  const everywhere = c.subscribe({ allNamespaces: true, filters: ['topic~="/namespaces/"'] })
  await Promise.all([exits.ready, everywhere.ready])
  const other = uniqueName('elsewhere')
  await c.createNamespace(other)
  const seen = await collect(everywhere, (evs) => evs.some((e) => e.event?.name === other))
  const created = seen.find((e) => e.event?.name === other)
  assert.equal(created.topic, '/namespaces/create')
  assert.equal(created.type, 'containerd.events.NamespaceCreate')
  await c.run(sb.images.busybox, ['true'])
  const [exit] = await collect(exits, () => true)
  assert.equal(exit.topic, '/tasks/exit')
  exits.close()
  assert.deepEqual(await exits.next(), { done: true, value: undefined })
  everywhere.close()
  await c.deleteNamespace(other)
  await c.close()
})

test('a consumer that falls behind gets ResourceExhaustedError after the queued events, never a gap', async () => {
  const c = await client()
  const stream = c.subscribe({ queueLimit: 5 })
  await stream.ready
  await c.run(sb.images.busybox, ['true'])
  await c.run(sb.images.busybox, ['true'])
  await new Promise((r) => setTimeout(r, 200))
  const got = []
  const err = await rejectsWith((async () => { for await (const e of stream) got.push(e) })(), ResourceExhaustedError, /behind/)
  assert.equal(got.length, 5)
  assert.deepEqual(got.map((e) => e.topic).slice(0, 2), ['/snapshot/prepare', '/containers/create'])
  assert.equal(err.grpcCode, 8)
  await c.close()
})

test('200 container lifecycles, at most 10 at a time: every /tasks/exit arrives exactly once', async () => {
  const c = await client()
  const stream = c.subscribe({ filters: ['topic=="/tasks/exit"'] })
  await stream.ready
  const ids = Array.from({ length: 200 }, (_, i) => `life-${i}-${uniqueName('x')}`)
  const counts = new Map()
  const collected = (async () => {
    for await (const e of stream) {
      counts.set(e.event.containerId, (counts.get(e.event.containerId) ?? 0) + 1)
      if (ids.every((id) => counts.has(id))) break
    }
  })()
  let next = 0
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < ids.length) {
      const id = ids[next++]
      const r = await c.run(sb.images.busybox, ['true'], { id })
      assert.equal(r.exitCode, 0)
    }
  }))
  await collected
  for (const id of ids) assert.equal(counts.get(id), 1, id)
  assert.equal(counts.size, 200)
  await c.close()
})

test('aborting a subscription, a wait and an exec wait rejects promptly with CancelledError', async () => {
  const c = await client()
  const controller = new AbortController()
  const stream = c.subscribe({ signal: controller.signal })
  await stream.ready
  const iterating = stream.next()
  setTimeout(() => controller.abort(), 50)
  await rejectsWith(iterating, CancelledError)
  assert.deepEqual(await stream.next(), { done: true, value: undefined })
  await rejectsWith(c.subscribe({ signal: AbortSignal.abort() }).ready, CancelledError)
  assert.throws(() => c.subscribe({ filters: 'x' }), InvalidArgumentError)

  const container = await c.createContainer(uniqueName('w'), { image: sb.images.busybox, args: ['sleep', '300'] })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const started = Date.now()
  await rejectsWith(task.wait({ signal: AbortSignal.timeout(100) }), CancelledError)
  const p = await task.exec('long', { args: ['sleep', '300'], stdio: 'ignore' })
  await p.start()
  await rejectsWith(p.wait({ signal: AbortSignal.timeout(100) }), CancelledError)
  assert.ok(Date.now() - started < 5000)
  assert.deepEqual(await task.status(), { status: 'running' })
  await container[Symbol.asyncDispose]()
  assert.deepEqual(lines(ctr(c.namespace, 'containers', 'ls', '-q')), [])
  await c.close()
})

test('a Client outlives a daemon restart; a wait() from before the restart gets the real exit', async () => {
  const c = await client()
  const container = await c.createContainer(uniqueName('survivor'), {
    image: sb.images.busybox, args: ['sh', '-c', 'sleep 2; exit 42'],
  })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const waiting = task.wait()
  const stream = c.subscribe()
  await stream.ready
  const ended = stream.next().then(() => null, (err) => err)
  await restartMain(sb)
  // The stream ends with UnavailableError (it does not resume across the restart).
  assert.ok((await ended) instanceof UnavailableError)
  const exit = await waiting
  assert.equal(exit.exitCode, 42)
  // The same Client (no new connect) works again.
  assert.match((await c.version()).version, /^\d+\./)
  assert.equal((await task.delete()).exitCode, 42)
  await container.delete()
  await c.close()
})
