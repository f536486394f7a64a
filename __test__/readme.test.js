'use strict'
// The README's examples are the files under examples/readme/: each README block marked
// `<!-- example: examples/readme/NAME.js -->` must equal its file, every other js block of the
// README must say why it is not run (`<!-- not run: … -->`), and each file runs against the test
// stack in a fresh `node` with nothing but the environment a user would set.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { sandbox, uniqueName, closedPort } = require('./helpers.js')

const ROOT = path.resolve(__dirname, '..')
const DIR = path.join(ROOT, 'examples', 'readme')

/** Every ```js block of the README with the marker comment right above it. */
function readmeBlocks() {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const blocks = []
  const re = /(?:<!-- (example: ([^\s]+)|not run: [^>]+) -->\n)?```js\n([\s\S]*?)```/g
  for (const m of text.matchAll(re)) blocks.push({ marker: m[1], file: m[2], body: m[3] })
  return blocks
}

test('every js block of the README is an example file (verbatim) or says why it is not run', () => {
  const blocks = readmeBlocks()
  const shown = new Set()
  for (const b of blocks) {
    assert.ok(b.marker, `a js block without <!-- example: … --> or <!-- not run: … -->:\n${b.body.slice(0, 200)}`)
    if (!b.file) continue
    assert.equal(b.body, fs.readFileSync(path.join(ROOT, b.file), 'utf8'), `README block of ${b.file} differs from the file`)
    shown.add(path.basename(b.file))
  }
  assert.deepEqual([...shown].sort(), fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort(), 'each example file is in the README')
})

// `require('containerd-napi')` as in an installed project: a node_modules holding this checkout.
const modules = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-readme-'))
fs.symlinkSync(ROOT, path.join(modules, 'containerd-napi'))
test.after(() => fs.rmSync(modules, { recursive: true, force: true }))

function run(file, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(DIR, file)], { cwd: os.tmpdir(), timeout: 90_000, env: { ...process.env, NODE_PATH: modules, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr }))
  })
}

const sb = sandbox()
for (const file of fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort()) {
  test(`README example ${file} runs as shown`, async () => {
    const namespace = uniqueName('readme')
    const env = {
      CONTAINERD_ADDRESS: sb.address,
      CONTAINERD_NAMESPACE: namespace,
      IMAGE: sb.images.busybox,
      REGISTRY: sb.registry,
      PORT: String(await closedPort()),
    }
    const r = await run(file, env)
    assert.equal(r.code, 0, `${file} failed:\n${r.stderr}\n${r.stdout}`)
    assert.doesNotMatch(r.stderr, /Warning|Error/, r.stderr)
    // Nothing left behind in its namespace (the namespace itself goes if empty).
    const { Client } = require('..')
    const client = await Client.connect({ address: sb.address, namespace })
    try {
      assert.deepEqual(await client.listContainers(), [])
      assert.deepEqual(await client.listTasks(), [])
      await client.deleteNamespace(namespace).catch(() => {})
    } finally {
      await client.close()
    }
  })
}
