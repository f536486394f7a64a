#!/usr/bin/env node
'use strict'
// Benchmarks of containerd-napi against the two old approaches (grpc-js + proto-loader, and ctr
// through child_process.execFile), the Go client (`ctr images pull`, `ctr run --rm`) and a raw
// tonic floor in Rust (bench/rust-floor). See BENCHMARKS.md.
//
//   npm run bench [-- --quick] [-- --only rpc,pull,run,concurrency,memory,network,images,debug]
//
// Starts its own sandbox (scripts/sandbox.js, name "bench") and always stops it again, prints
// markdown tables and writes everything to bench/results.json. Container networks live in the
// sandbox ($CONTAINERD_NAPI_NETWORK_ROOT = <sandbox>/network, for this process and its children),
// so stopping the sandbox removes them too.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const sandbox = require('../scripts/sandbox.js')
const { run, killChildren, selfCpuUs, childrenCpuUs } = require('./lib/procs.js')
const { vendorDir, connectGrpc } = require('./lib/grpc.js')
const { renderTables, evaluateTargets } = require('./lib/report.js')

const REPO = path.resolve(__dirname, '..')
const SECTIONS = ['rpc', 'pull', 'run', 'concurrency', 'memory', 'network', 'images', 'debug']
const SANDBOX_NAME = 'bench'
const FLOOR_MANIFEST = path.join(__dirname, 'rust-floor/Cargo.toml')
const FLOOR_BIN = path.join(REPO, 'target/release/containerd-napi-rust-floor')

function parseArgs(argv) {
  const options = { quick: false, only: SECTIONS, output: path.join(__dirname, 'results.json') }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') options.quick = true
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length)
      options.only = (value || '').split(',').map((s) => s.trim()).filter(Boolean)
      const unknown = options.only.filter((s) => !SECTIONS.includes(s))
      if (unknown.length || options.only.length === 0) throw new Error(`--only takes a list of ${SECTIONS.join(',')}; got ${value}`)
      // A partial run must not replace the full results the tables in BENCHMARKS.md come from.
      if (!argv.includes('--output')) options.output = path.join(__dirname, `results-${options.only.join('-')}.json`)
    } else if (arg === '--output') options.output = path.resolve(argv[++i])
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: node bench/index.js [--quick] [--only ${SECTIONS.join(',')}] [--output FILE]`)
      process.exit(0)
    } else throw new Error(`unknown argument ${arg}`)
  }
  return options
}

const log = (line) => process.stderr.write(line + '\n')

/** Busy CPU seconds of the whole machine so far (/proc/stat: everything but idle and iowait). */
function machineBusyCpuSec() {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const [user, nice, system, , , irq, softirq, steal] = f.map(Number)
  return (user + nice + system + irq + softirq + (steal || 0)) / 100
}

/** CPU seconds of one process so far (0 when it is gone). */
function processCpuSec(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return 0
  }
}

function tryRun(program, args) {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  } catch {
    return null
  }
}

function machine() {
  const cpus = os.cpus()
  const pkg = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version
    } catch {
      return null
    }
  }
  return {
    nproc: Number(tryRun('nproc', [])) || cpus.length,
    cpu: cpus[0] && cpus[0].model,
    memTotalGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    free: tryRun('free', ['-h']),
    kernel: os.release(),
    distro: (() => {
      try {
        return fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)[1]
      } catch {
        return null
      }
    })(),
    containerd: tryRun('containerd', ['--version']),
    ctr: tryRun('ctr', ['--version']),
    runc: (tryRun('runc', ['--version']) || '').split('\n')[0],
    node: process.version,
    rustc: tryRun('rustc', ['--version']),
    grpcJs: pkg('@grpc/grpc-js'),
    protoLoader: pkg('@grpc/proto-loader'),
  }
}

/**
 * Removes the sandboxes of `name` that this process made. Before start() has returned (Ctrl-C
 * during start-up) there is no description yet, and the directory has a random name (mkdtemp),
 * so it is found by its owner file; destroyLeftovers() would skip it, as its owner is alive.
 */
async function destroyOwn(name) {
  for (const { dir, owner } of sandbox.sandboxes(name)) {
    if (owner === process.pid) await sandbox.destroy(dir)
  }
}

/** Builds bench/rust-floor (sharing the repository's target/ for dependency builds). */
function buildFloor() {
  log('building bench/rust-floor (cargo build --release)')
  try {
    execFileSync('cargo', ['build', '--release', '--quiet', '--manifest-path', FLOOR_MANIFEST], {
      cwd: REPO,
      env: { ...process.env, CARGO_TARGET_DIR: path.join(REPO, 'target') },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  } catch (err) {
    throw new Error(`building the Rust floor failed: ${err.message}`, { cause: err })
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (!fs.existsSync(path.join(REPO, 'containerd-napi.linux-x64-gnu.node'))) {
    throw new Error('containerd-napi.linux-x64-gnu.node is missing: run `npm run build` first')
  }
  const started = new Date()
  const results = { startedAt: started.toISOString(), options: { quick: options.quick, only: options.only }, machine: machine() }
  const wants = (s) => options.only.includes(s)
  let vendor = null
  if (wants('rpc') || wants('memory')) {
    const v = vendorDir()
    vendor = v.dir
    results.machine.containerdClientCrate = v.version
  }
  if (wants('rpc')) buildFloor()

  let sb = null
  let stopping = null
  const stop = () => {
    killChildren()
    // Before start() has returned, whatever it made so far is found by its owner file.
    if (!stopping) {
      stopping = (sb ? sandbox.stop(sb) : destroyOwn(SANDBOX_NAME))
        .catch((err) => log(`stopping the sandbox failed: ${err.message}`))
    }
    return stopping
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`\n${signal}: stopping the sandbox`)
      stop().then(() => process.exit(130))
    })
  }
  process.once('unhandledRejection', (err) => {
    log(`unhandled rejection: ${err && err.stack ? err.stack : err}`)
    stop().then(() => process.exit(1))
  })

  let client = null
  let grpc = null
  try {
    log('starting the sandbox')
    const t0 = performance.now()
    sb = await sandbox.start({ name: SANDBOX_NAME })
    log(`  up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${sb.address}, registry ${sb.registry}`)
    // Networks in the sandbox, never in the host's root: the library reads this once per process,
    // at its first network call (none before this line), and child processes inherit it.
    process.env.CONTAINERD_NAPI_NETWORK_ROOT = path.join(sb.dir, 'network')
    results.machine.containerdServer = (await run('ctr', ['-a', sb.address, 'version'])).stdout.split('Server:')[1]?.match(/Version:\s*(\S+)/)?.[1]

    const { Client } = require('..')
    client = await Client.connect({ address: sb.address })
    if (vendor) grpc = await connectGrpc({ socket: sb.address, vendor })
    const ctx = {
      sb, client, grpc, vendor, quick: options.quick, log,
      // The raw tonic floor (bench/rust-floor): op 'version' | 'images' | 'containers';
      // runtime 'current-thread' (fastest for calls one after another) | 'multi-thread'.
      floor: async (op, namespace, sequential, concurrent, runtime = 'current-thread') =>
        JSON.parse((await run(FLOOR_BIN, [sb.address, op, namespace, String(sequential), String(concurrent), runtime])).stdout),
    }
    const sections = {
      rpc: () => require('./sections/rpc.js').benchRpc(ctx),
      pull: () => require('./sections/pull.js').benchPull(ctx),
      run: () => require('./sections/run.js').benchRun(ctx),
      concurrency: () => require('./sections/concurrency.js').benchConcurrency(ctx),
      memory: () => require('./sections/memory.js').benchMemory(ctx),
      network: () => require('./sections/network.js').benchNetwork(ctx),
      images: () => require('./sections/images.js').benchImages(ctx),
      debug: () => require('./sections/debug.js').benchDebug(ctx),
    }
    for (const name of SECTIONS.filter(wants)) {
      const t = performance.now()
      const loadBefore = os.loadavg()
      const busy0 = machineBusyCpuSec()
      const bench0 = selfCpuUs() + childrenCpuUs()
      const daemon0 = processCpuSec(sb.pids[0])
      results[name] = await sections[name]()
      results[name].sectionSec = (performance.now() - t) / 1000
      // Where the machine's CPU time went during the section: this process and the children it
      // reaped (ctr, node children, the Rust floor), the containerd under test, and the rest
      // (shims and runc, the registry, and anything else running on the machine).
      const busy = machineBusyCpuSec() - busy0
      const bench = (selfCpuUs() + childrenCpuUs() - bench0) / 1e6
      const daemon = processCpuSec(sb.pids[0]) - daemon0
      results[name].cpuSec = { machineBusy: busy, bench, containerd: daemon, rest: busy - bench - daemon }
      results[name].loadavg = { before: loadBefore, after: os.loadavg() }
      log(`${name}: CPU s: machine ${busy.toFixed(1)}, bench ${bench.toFixed(1)}, containerd ${daemon.toFixed(1)}, rest ${(busy - bench - daemon).toFixed(1)}`)
      log(`${name}: done in ${results[name].sectionSec.toFixed(1)} s`)
    }
  } finally {
    if (grpc) grpc.close()
    if (client) await client.close().catch(() => {})
    if (!stopping) log('stopping the sandbox')
    await stop()
  }

  results.durationSec = (Date.now() - started.getTime()) / 1000
  results.targets = evaluateTargets(results)
  results.tables = renderTables(results)
  fs.writeFileSync(options.output, JSON.stringify(results, null, 2) + '\n')
  process.stdout.write(results.tables + '\n')
  log(`\nwrote ${path.relative(process.cwd(), options.output) || options.output} (${results.durationSec.toFixed(0)} s in all)`)
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exitCode = 1
})
