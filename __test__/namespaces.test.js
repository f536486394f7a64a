'use strict'
// Daemon data as plain JS values, namespaces, and the daemon-produced error classes.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { Client, NotFoundError, AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, ContainerdError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()

test('plugins() lists plain objects with ok and skip statuses', async () => {
  const client = await Client.connect({ address: sb.address })
  const plugins = await client.plugins()
  assert.ok(plugins.length > 10)
  for (const p of plugins) {
    assert.equal(typeof p.type, 'string')
    assert.equal(typeof p.id, 'string')
    assert.ok(['ok', 'error', 'skip'].includes(p.status), p.status)
    assert.ok(Array.isArray(p.requires))
    assert.equal(p.status === 'ok', p.error === undefined, `${p.type}.${p.id}`)
  }
  const overlay = plugins.find((p) => p.type === 'io.containerd.snapshotter.v1' && p.id === 'overlayfs')
  assert.equal(overlay?.status, 'ok')
  // The btrfs snapshotter skips itself on a non-btrfs root.
  const btrfs = plugins.find((p) => p.type === 'io.containerd.snapshotter.v1' && p.id === 'btrfs')
  assert.equal(btrfs?.status, 'skip', btrfs?.error)
  await client.close()
})

test('namespaces: create with labels, list them back, delete', async () => {
  const client = await Client.connect({ address: sb.address })
  const name = uniqueName('ns')
  const labels = { team: 'core', 'example.com/owner': 'ci', note: 'spaces and = are fine' }
  await client.createNamespace(name, labels)
  const listed = (await client.listNamespaces()).find((n) => n.name === name)
  assert.deepEqual(listed, { name, labels })
  const bare = uniqueName('bare')
  await client.createNamespace(bare)
  assert.deepEqual((await client.listNamespaces()).find((n) => n.name === bare), { name: bare, labels: {} })
  await client.deleteNamespace(name)
  await client.deleteNamespace(bare)
  const names = (await client.listNamespaces()).map((n) => n.name)
  assert.ok(!names.includes(name) && !names.includes(bare))
  // containerd 1.6.20 answers NOT_FOUND for a namespace that does not exist.
  const err = await rejectsWith(client.deleteNamespace(uniqueName('never')), NotFoundError, /not found/)
  assert.equal(err.grpcCode, 5)
  await client.close()
})

test('creating an existing namespace is AlreadyExistsError with the daemon details', async () => {
  const client = await Client.connect({ address: sb.address })
  const name = uniqueName('dup')
  await client.createNamespace(name)
  const err = await rejectsWith(client.createNamespace(name), AlreadyExistsError, new RegExp(name))
  assert.ok(err instanceof ContainerdError && err instanceof Error)
  assert.equal(err.code, 'ALREADY_EXISTS')
  assert.equal(err.grpcCode, 6)
  assert.match(err.details, /already exists/)
  await client.deleteNamespace(name)
  await client.close()
})

test('deleting a namespace that holds an image is FailedPreconditionError', async () => {
  const client = await Client.connect({ address: sb.address })
  const name = uniqueName('full')
  await client.createNamespace(name)
  // ctr, the reference client, puts an image into it (this client's pull comes in a later issue).
  execFileSync('ctr', ['-a', sb.address, '-n', name, 'images', 'pull', '--plain-http', sb.images.busybox], { stdio: 'ignore' })
  const err = await rejectsWith(client.deleteNamespace(name), FailedPreconditionError, /must be empty/)
  assert.equal(err.grpcCode, 9)
  assert.ok((await client.listNamespaces()).some((n) => n.name === name))
  await client.close()
})

test('bad names and labels are InvalidArgumentErrors before any RPC', async () => {
  const client = await Client.connect({ address: sb.address })
  for (const bad of ['', 'a b', 'a/b', 'x'.repeat(77), 'trailing-']) {
    await rejectsWith(client.createNamespace(bad), InvalidArgumentError, /namespace/)
    await rejectsWith(client.deleteNamespace(bad), InvalidArgumentError, /namespace/)
  }
  await rejectsWith(client.createNamespace(7), InvalidArgumentError, /name must be a string/)
  await rejectsWith(client.createNamespace(uniqueName('l'), { n: 1 }), InvalidArgumentError, /labels\["n"\]/)
  await rejectsWith(client.createNamespace(uniqueName('l'), ['a']), InvalidArgumentError, /labels must be an object/)
  await client.close()
})

test('a namespace view sees the same daemon data as ctr', async () => {
  const client = await Client.connect({ address: sb.address })
  const name = uniqueName('view')
  await client.withNamespace(name).createNamespace(name, { via: 'view' })
  const out = execFileSync('ctr', ['-a', sb.address, 'namespaces', 'ls'], { encoding: 'utf8' })
  assert.match(out, new RegExp(`${name}\\s+via=view`))
  await client.close()
})
