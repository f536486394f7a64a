'use strict'
// Round trips of run(): the image and the container are resolved once and handed down the
// pipeline (23 gRPC calls per run() before that, 16 after; `ctr run --rm` makes about as many).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { sandbox, uniqueName } = require('./helpers.js')

const sb = sandbox()
const CALLS = Symbol.for('containerd-napi.callCount')

test('one run() of a local image makes at most 16 gRPC calls', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('calls') })
  await c.pull(sb.images.busybox)
  const before = c[CALLS]
  const { exitCode } = await c.run(sb.images.busybox, ['true'])
  const calls = c[CALLS] - before
  assert.equal(exitCode, 0)
  assert.ok(calls <= 16, `run() made ${calls} gRPC calls`)
  await c.close()
})
