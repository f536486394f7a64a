'use strict'
// Concurrency: 50 run() at once in this process vs 50 `ctr run --rm` processes at once.

const { summary } = require('../lib/stats.js')
const { prepare, runners } = require('./run.js')

const NS = 'bench-concurrency'
const WIDTH = 50

async function benchConcurrency(ctx) {
  const { quick, log } = ctx
  const rounds = quick ? 1 : 3
  log(`concurrency: ${WIDTH} concurrent run() vs ${WIDTH} concurrent ctr run --rm`)
  const ref = await prepare(ctx, NS)
  const r = runners(ctx, NS, ref, 'bench-conc')
  const walls = { ours: [], ctr: [] }
  const each = { ours: [], ctr: [] }
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['ours', 'ctr'] : ['ctr', 'ours']
    for (const which of order) {
      const t = performance.now()
      await Promise.all(Array.from({ length: WIDTH }, async () => {
        await r[which]()
        each[which].push(performance.now() - t)
      }))
      const ms = performance.now() - t
      walls[which].push(ms)
      log(`  ${which.padEnd(4)} ${(ms / 1000).toFixed(2)} s`)
    }
  }
  return {
    width: WIDTH,
    rounds,
    ours: { wall: summary(walls.ours), perRun: summary(each.ours) },
    ctr: { wall: summary(walls.ctr), perRun: summary(each.ctr) },
  }
}

module.exports = { benchConcurrency }
