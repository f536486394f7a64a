'use strict'
// Run latency: `client.run(image, ['true'])` vs `ctr run --rm IMAGE ID true`, alternating, the
// image pulled and unpacked beforehand in the namespace both use.

const { run } = require('../lib/procs.js')
const { summary } = require('../lib/stats.js')

const NS = 'bench-run'

async function prepare(ctx, ns) {
  const image = await ctx.client.withNamespace(ns).pull(ctx.sb.images.busybox)
  return image.name
}

function runners(ctx, ns, ref, prefix) {
  const ours = ctx.client.withNamespace(ns)
  let n = 0
  return {
    ours: async () => {
      const r = await ours.run(ref, ['true'])
      if (r.exitCode !== 0) throw new Error(`run() exited with ${r.exitCode}: ${r.stderr}`)
    },
    ctr: () => run('ctr', ['-a', ctx.sb.address, '-n', ns, 'run', '--rm', ref, `${prefix}-${process.pid}-${n++}`, 'true'],
      { timeout: 120000 }),
  }
}

async function benchRun(ctx) {
  const { quick, log } = ctx
  const runs = quick ? 10 : 20
  log('run: sequential run() vs ctr run --rm')
  const ref = await prepare(ctx, NS)
  const r = runners(ctx, NS, ref, 'bench-ctr')
  for (let i = 0; i < 2; i++) {
    await r.ours()
    await r.ctr()
  }
  const times = { ours: [], ctr: [] }
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['ours', 'ctr'] : ['ctr', 'ours']
    for (const which of order) {
      const t = performance.now()
      await r[which]()
      times[which].push(performance.now() - t)
    }
  }
  return { runs, ours: summary(times.ours), ctr: summary(times.ctr), samplesMs: times }
}

module.exports = { benchRun, prepare, runners }
