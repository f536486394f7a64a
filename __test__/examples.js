'use strict'
// What the README test and the guides test share: the ```js blocks of a markdown file with their
// marker comments, and running an example file as a user would — a fresh `node`, the package
// required as if installed, only the environment a user would set — then checking nothing is left.

const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { test } = require('node:test')
const { sandbox, uniqueName, closedPort } = require('./helpers.js')

const ROOT = path.resolve(__dirname, '..')

/** Every ```js block of `file`, with `<!-- example: PATH -->` or `<!-- not run: … -->` above it. */
function jsBlocks(file) {
  const text = fs.readFileSync(file, 'utf8')
  const re = /(?:<!-- (example: ([^\s]+)|not run: [^>]+) -->\n)?```js\n([\s\S]*?)```/g
  return [...text.matchAll(re)].map((m) => ({ marker: m[1], file: m[2], body: m[3] }))
}

/**
 * A runner for the example files of `dir`: `run(file)` resolves with { namespace, code, stdout,
 * stderr } of the file run against the sandbox in a namespace of its own.
 */
function exampleRunner(dir, { prefix, timeoutMs }) {
  // `require('containerd-napi')` as in an installed project: a node_modules holding this checkout.
  const modules = fs.mkdtempSync(path.join(os.tmpdir(), `containerd-napi-${prefix}-`))
  fs.symlinkSync(ROOT, path.join(modules, 'containerd-napi'))
  test.after(() => fs.rmSync(modules, { recursive: true, force: true }))
  const sb = sandbox()
  return async function run(file) {
    const namespace = uniqueName(prefix)
    const env = {
      ...process.env,
      NODE_PATH: modules,
      CONTAINERD_ADDRESS: sb.address,
      CONTAINERD_NAMESPACE: namespace,
      IMAGE: sb.images.busybox,
      REGISTRY: sb.registry,
      PORT: String(await closedPort()),
    }
    return new Promise((resolve) => {
      execFile(process.execPath, [path.join(dir, file)], { cwd: os.tmpdir(), timeout: timeoutMs, env },
        (err, stdout, stderr) => resolve({ namespace, code: err ? (err.code ?? err.signal) : 0, stdout, stderr }))
    })
  }
}

/** No container, task (or, with `networks`, matching network) left in `namespace`; then it goes if empty. */
async function assertNothingLeft(namespace, networks) {
  const { Client } = require('..')
  const client = await Client.connect({ address: sandbox().address, namespace })
  try {
    assert.deepEqual(await client.listContainers(), [])
    assert.deepEqual(await client.listTasks(), [])
    if (networks) assert.deepEqual((await client.listNetworks()).filter(networks), [])
    await client.deleteNamespace(namespace).catch(() => {})
  } finally {
    await client.close()
  }
}

module.exports = { ROOT, jsBlocks, exampleRunner, assertNothingLeft }
