#!/usr/bin/env node
'use strict'
// Runs the node test suite against a fresh sandbox (scripts/sandbox.js), then tears it down,
// also when the run fails or is interrupted. Extra arguments select test files.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const sandbox = require('./sandbox.js')

async function main() {
  const dir = path.join(__dirname, '..', '__test__')
  const selected = process.argv.slice(2)
  const files = selected.length > 0
    ? selected
    : fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(dir, f))
  // tcp: the connect tests reach the daemon over tcp:// and mTLS (forwarders only the tests get).
  // A failed start cleans up after itself; each run has a directory of its own.
  const sb = await sandbox.start({ name: 'test', tcp: true })
  let child
  const interrupt = (signal) => child?.kill(signal)
  process.on('SIGINT', interrupt)
  process.on('SIGTERM', interrupt)
  let code
  try {
    // --expose-gc: the streaming test measures memory after collecting garbage.
    child = spawn(process.execPath, ['--expose-gc', '--test', '--test-timeout=120000', ...files], {
      stdio: 'inherit',
      // The tests' networks live in the sandbox (destroy() removes them), not in the host's root.
      // So do their container logs.
      env: {
        ...process.env,
        CONTAINERD_NAPI_SANDBOX: sb.infoPath,
        CONTAINERD_NAPI_NETWORK_ROOT: path.join(sb.dir, 'network'),
        CONTAINERD_NAPI_LOG_ROOT: path.join(sb.dir, 'logs'),
      },
    })
    code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))))
  } finally {
    await sandbox.stop(sb)
  }
  process.exit(code)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
