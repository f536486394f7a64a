'use strict'
// What a network costs a container's life cycle: createContainer + newTask({ stdio: 'ignore' }) +
// start + kill/wait/delete of the task + container.delete(), for the fixture httpd (a) without a
// network (the default) and (b) on the 'bridge' network with one port published on 127.0.0.1,
// alternating. Traffic stays on loopback: the published port is fetched once (untimed) to check
// that it serves, and the containers get 127.0.0.1 as their nameserver (they need none). With
// nerdctl on PATH, also `nerdctl run -d -p` + `nerdctl rm -f` on the same daemon.

const fs = require('node:fs')
const path = require('node:path')
const { run } = require('../lib/procs.js')
const { summary } = require('../lib/stats.js')
const { freePort } = require('../../scripts/sandbox.js')

const NS = 'bench-network'
const ARGS = ['httpd', '-f', '-p', '80', '-h', '/var/www']
const DNS = ['127.0.0.1']
const PHASES = ['create', 'start', 'stop', 'remove']

/** The path of `program` on PATH (like `command -v`), or null. */
function onPath(program) {
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue
    const file = path.join(dir, program)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {}
  }
  return null
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The body served on 127.0.0.1:port, retrying while httpd starts (at most ~5 s). */
async function get(port) {
  let last
  for (let i = 0; i < 50; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
      return await res.text()
    } catch (err) {
      last = err
      await sleep(100)
    }
  }
  throw last
}

/**
 * One life cycle; resolves with the time of each phase (ms). `check(port)` runs untimed between
 * start and stop, for the warm-up.
 */
async function cycle(client, image, id, port, check) {
  const options = port ? { image, args: ARGS, network: 'bridge', ports: [`127.0.0.1:${port}:80`], dns: DNS } : { image, args: ARGS }
  const t0 = performance.now()
  const container = await client.createContainer(id, options)
  const t1 = performance.now()
  const task = await container.newTask({ stdio: 'ignore' })
  await task.start()
  const t2 = performance.now()
  if (check) await check(port)
  const t3 = performance.now()
  const exited = task.wait()
  await task.kill('SIGKILL')
  await exited
  await task.delete()
  const t4 = performance.now()
  await container.delete()
  const t5 = performance.now()
  return { create: t1 - t0, start: t2 - t1, stop: t4 - t3, remove: t5 - t4, total: t5 - t3 + (t2 - t0) }
}

/** `nerdctl run -d -p` + `nerdctl rm -f` on the sandbox's daemon, its state in the sandbox. */
function nerdctlRunner(ctx, nerdctl, image) {
  const dir = path.join(ctx.sb.dir, 'nerdctl')
  fs.mkdirSync(path.join(dir, 'net.d'), { recursive: true, mode: 0o700 })
  const global = ['--address', ctx.sb.address, '--namespace', NS, '--data-root', path.join(dir, 'data'),
    '--cni-path', '/usr/lib/cni', '--cni-netconfpath', path.join(dir, 'net.d')]
  return async (id, port) => {
    const t0 = performance.now()
    await run(nerdctl, [...global, 'run', '-d', '--name', id, '-p', `127.0.0.1:${port}:80`, '--dns', DNS[0], image, ...ARGS], { timeout: 120000 })
    const t1 = performance.now()
    await run(nerdctl, [...global, 'rm', '-f', id], { timeout: 120000 })
    const t2 = performance.now()
    return { run: t1 - t0, rm: t2 - t1, total: t2 - t0 }
  }
}

async function benchNetwork(ctx) {
  const { sb, quick, log } = ctx
  const rounds = quick ? 4 : 10
  const client = ctx.client.withNamespace(NS)
  log('network: create + start + stop + delete, no network vs bridge with a published port')
  const image = (await client.pull(sb.images.httpd)).name
  const expected = sb.fixtures.httpd && sb.fixtures.httpd.expect.body
  const nerdctlPath = onPath('nerdctl')
  const nerdctl = nerdctlPath ? nerdctlRunner(ctx, nerdctlPath, image) : null
  const variants = nerdctl ? ['none', 'bridge', 'nerdctl'] : ['none', 'bridge']
  let n = 0
  const once = async (which, check) => {
    const id = `bench-net-${process.pid}-${n++}`
    if (which === 'none') return cycle(client, image, id, null, null)
    const port = await freePort()
    return which === 'bridge' ? cycle(client, image, id, port, check) : nerdctl(id, port)
  }
  // Warm-up: one of each; the bridge one also checks that the published port serves the page.
  let served = null
  await once('none')
  await once('bridge', async (port) => {
    served = await get(port)
    if (expected && served !== expected) throw new Error(`127.0.0.1:${port} served ${JSON.stringify(served)}, not the fixture's page`)
  })
  if (nerdctl) await once('nerdctl')

  const samples = Object.fromEntries(variants.map((v) => [v, []]))
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? variants : [...variants].reverse()
    for (const which of order) samples[which].push(await once(which))
  }
  const out = { rounds, image, portServed: served === expected }
  for (const which of ['none', 'bridge']) {
    out[which] = { total: summary(samples[which].map((s) => s.total)) }
    for (const phase of PHASES) out[which][phase] = summary(samples[which].map((s) => s[phase]))
  }
  // Per-round ratios: robust against drift over the section.
  const perRound = samples.bridge.map((s, i) => s.total / samples.none[i].total)
  out.ratio = { median: out.bridge.total.median / out.none.total.median, withinRounds: summary(perRound).median }
  if (nerdctl) {
    out.nerdctl = { available: true, path: nerdctlPath, total: summary(samples.nerdctl.map((s) => s.total)),
      run: summary(samples.nerdctl.map((s) => s.run)), rm: summary(samples.nerdctl.map((s) => s.rm)) }
    out.ratio.bridgeVsNerdctl = out.bridge.total.median / out.nerdctl.total.median
  } else {
    out.nerdctl = { available: false, reason: 'nerdctl is not on PATH (and not packaged in Debian 12)' }
  }
  out.samplesMs = samples
  return out
}

module.exports = { benchNetwork }
