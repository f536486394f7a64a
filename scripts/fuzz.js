#!/usr/bin/env node
'use strict'
// `npm run fuzz [-- --seconds N] [-- target ...]`: runs every cargo-fuzz target of the core crate
// (crates/core/fuzz) for a bounded time each with the nightly toolchain, grows the corpus in
// crates/core/fuzz/corpus/<target> (commit what `--minimize` keeps), and prints executions per
// target. A crash is left in crates/core/fuzz/artifacts/<target>/ and replayed by `cargo test`
// (crates/core/tests/fuzz_corpus.rs) until fixed. Needs `cargo install cargo-fuzz`.
//   --seconds N   time per target (default 30, or $FUZZ_SECONDS)
//   --minimize    after the runs, `cargo fuzz cmin` each target's corpus

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const CORE = path.join(__dirname, '..', 'crates', 'core')
const FUZZ = path.join(CORE, 'fuzz')

function main() {
  const args = process.argv.slice(2)
  let seconds = Number(process.env.FUZZ_SECONDS || 30)
  let minimize = false
  const chosen = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--seconds') seconds = Number(args[++i])
    else if (args[i] === '--minimize') minimize = true
    else chosen.push(args[i])
  }
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--seconds takes a whole number of seconds')
  const all = fs.readdirSync(path.join(FUZZ, 'fuzz_targets')).filter((f) => f.endsWith('.rs')).map((f) => f.slice(0, -3)).sort()
  const targets = chosen.length ? chosen : all
  for (const t of targets) if (!all.includes(t)) throw new Error(`unknown target ${t}; targets: ${all.join(', ')}`)

  const cargo = (cargoArgs, opts = {}) => spawnSync('cargo', ['+nightly', 'fuzz', ...cargoArgs], { cwd: CORE, encoding: 'utf8', ...opts })
  const built = cargo(['build', '-O'], { stdio: 'inherit' })
  if (built.status !== 0) process.exit(built.status ?? 1)

  const results = []
  for (const t of targets) {
    fs.mkdirSync(path.join(FUZZ, 'corpus', t), { recursive: true })
    // -rss_limit_mb / -malloc_limit_mb: a target that allocates without bound is a finding too.
    const run = cargo(['run', '-O', t, '--', `-max_total_time=${seconds}`, '-rss_limit_mb=2048', '-malloc_limit_mb=1024', '-timeout=20'])
    const log = run.stdout + run.stderr
    const done = log.match(/Done (\d+) runs in (\d+) second/)
    const crashed = run.status !== 0
    results.push({ target: t, runs: done ? Number(done[1]) : null, seconds: done ? Number(done[2]) : seconds, crashed, corpus: fs.readdirSync(path.join(FUZZ, 'corpus', t)).length })
    if (crashed) process.stderr.write(log.split('\n').slice(-40).join('\n') + '\n')
    const r = results[results.length - 1]
    console.log(`${t.padEnd(14)} ${crashed ? 'CRASH' : 'ok   '} ${String(r.runs ?? '?').padStart(10)} runs in ${r.seconds} s, corpus ${r.corpus}`)
  }
  if (minimize) {
    for (const t of targets) {
      const min = cargo(['cmin', '-O', t])
      if (min.status !== 0) process.stderr.write(min.stderr)
    }
  }
  if (results.some((r) => r.crashed)) process.exit(1)
}

main()
