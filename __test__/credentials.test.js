'use strict'
// Registry credentials from the docker config are looked up only when a registry asks (401), off
// the JS thread: a slow credential helper never stalls the event loop, and a pull of an image that
// is already here starts no helper at all.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Client } = require('..')
const { sandbox, uniqueName } = require('./helpers.js')

const sb = sandbox()

/** A docker config whose credential helper for `host` sleeps 2 s, logs each run, then answers. */
function slowHelper(host, username, password) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-credhelper-'))
  const log = path.join(dir, 'runs.log')
  const helper = path.join(dir, 'docker-credential-slow')
  fs.writeFileSync(helper, `#!${process.execPath}
require('node:fs').appendFileSync(${JSON.stringify(log)}, 'run\\n')
setTimeout(() => process.stdout.write(JSON.stringify({ ServerURL: ${JSON.stringify(host)}, Username: ${JSON.stringify(username)}, Secret: ${JSON.stringify(password)} })), 2000)
`, { mode: 0o755 })
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { [host]: 'slow' } }))
  const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, PATH: process.env.PATH }
  process.env.DOCKER_CONFIG = dir
  process.env.PATH = `${dir}:${process.env.PATH}`
  return {
    runs: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0),
    restore() {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

test('a credential helper that sleeps 2 s does not stall the event loop; a local image starts no helper', async () => {
  const { ref, host, username, password } = sb.registries.basic
  const helper = slowHelper(host, username, password)
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('cred') })
  try {
    let last = performance.now()
    let worst = 0
    const timer = setInterval(() => {
      const now = performance.now()
      worst = Math.max(worst, now - last)
      last = now
    }, 1)
    try {
      await c.pull(ref, { unpack: false })
    } finally {
      clearInterval(timer)
    }
    assert.equal(helper.runs(), 1, 'the helper ran once, when the registry asked')
    // Blocking on the helper would stall the loop for its whole 2 s; the margin absorbs a busy CI.
    assert.ok(worst < 500, `the event loop stalled for ${worst.toFixed(1)} ms`)
    console.log(`# longest event-loop gap during the pull: ${worst.toFixed(1)} ms`)

    await c.run(ref, ['true'])
    assert.equal(helper.runs(), 1, 'run() of a local image started the helper')
  } finally {
    helper.restore()
    await c.close()
  }
})
