'use strict'
// Container.commit against the sandbox daemon: a container's changes (a file written, one of its
// image deleted) as a new image that runs, pushes and pulls elsewhere; with and without a task.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Image, InvalidArgumentError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')
const { execFileSync } = require('node:child_process')

const sb = sandbox()

const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })

async function client(ns = uniqueName('commit')) {
  return Client.connect({ address: sb.address, namespace: ns })
}

async function runToEnd(container) {
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  assert.equal((await task.wait()).exitCode, 0)
  await task.delete()
}

test('commit: a stopped container\'s changes as a new image with overrides and history; it runs, pushes and pulls', async () => {
  const ns = uniqueName('commit')
  const c = await client(ns)
  await c.pull(sb.images.busybox)
  assert.equal((await c.run(sb.images.busybox, ['sh', '-c', 'test -e /bin/vi && echo present'])).stdout, 'present\n')
  const container = await c.createContainer(uniqueName('src'), {
    image: sb.images.busybox, args: ['sh', '-c', 'echo committed > /new.txt && rm /bin/vi'],
  })
  await runToEnd(container)
  const img = await container.commit('committed/app:1', {
    config: { Cmd: ['cat', '/new.txt'], Env: ['FROM_COMMIT=1'] }, message: 'wrote new.txt', author: 'tester',
  })
  assert.ok(img instanceof Image)
  assert.equal(img.name, 'docker.io/committed/app:1')
  assert.equal(await img.isUnpacked(), true, 'the new layer is a snapshot already')
  const config = await img.config()
  assert.equal(config.rootfs.diff_ids.length, 2)
  assert.deepEqual(config.config.Cmd, ['cat', '/new.txt'])
  assert.deepEqual(config.config.Env, ['FROM_COMMIT=1'])
  assert.equal(config.author, 'tester')
  assert.equal(config.history.at(-1).comment, 'wrote new.txt')
  assert.equal(ctr(ns, 'leases', 'ls').trim().split('\n').length, 1, 'no lease left')
  assert.doesNotMatch(ctr(ns, 'snapshots', 'ls'), /commit-view|extract-/)

  assert.equal((await c.run(img, [])).stdout, 'committed\n')
  assert.equal((await c.run(img, ['sh', '-c', 'test -e /bin/vi && echo present || echo gone; echo $FROM_COMMIT'])).stdout,
    'gone\n1\n')

  // It pushes like any image, and pulls into another namespace with the same digest.
  const target = `${sb.registry}/${uniqueName('committed')}:v1`
  await c.tagImage(img.name, target)
  const pushed = await c.push(target)
  assert.equal(pushed.digest, img.target.digest)
  const other = await client()
  const pulled = await other.pull(target)
  assert.equal(pulled.target.digest, img.target.digest)
  assert.equal((await other.run(pulled, [])).stdout, 'committed\n')
  await other.close()

  // And exports.
  const chunks = []
  for await (const chunk of await c.exportImages(img.name)) chunks.push(chunk)
  assert.ok(Buffer.concat(chunks).length > 0)
  await container.delete()
  await c.close()
})

test('commit: a running task is paused while diffing and resumed; pause: false works too', async () => {
  const c = await client()
  await c.pull(sb.images.busybox)
  const container = await c.createContainer(uniqueName('live'), {
    image: sb.images.busybox, args: ['sh', '-c', 'echo live > /live.txt; sleep 600'],
  })
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  await new Promise((r) => setTimeout(r, 500))   // the shell has written /live.txt
  const img = await container.commit(uniqueName('live-img') + ':1')
  assert.equal((await task.status()).status, 'running', 'resumed after the diff')
  assert.equal((await c.run(img, ['cat', '/live.txt'])).stdout, 'live\n')
  const again = await container.commit(uniqueName('live-img2') + ':1', { pause: false })
  assert.equal((await c.run(again, ['cat', '/live.txt'])).stdout, 'live\n')

  await rejectsWith(container.commit('Bad Name!'), InvalidArgumentError)
  await rejectsWith(container.commit('x:1', { config: { Nope: 1 } }), InvalidArgumentError, /Nope/)
  await rejectsWith(container.commit('x:1', { config: 'Cmd' }), InvalidArgumentError)
  await rejectsWith(container.commit('x:1', { pause: 'no' }), InvalidArgumentError)
  assert.equal((await task.status()).status, 'running')
  await task.kill('SIGKILL')
  await task.wait()
  await task.delete()
  await container.delete()
  await c.close()
})
