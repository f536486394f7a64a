'use strict'
// The guides' examples (docs/*.md) are the files under docs/examples/: each guide block marked
// `<!-- example: docs/examples/NAME.js -->` must equal its file, every other js block of a guide
// must say why it is not run (`<!-- not run: … -->`), and each file runs against the test stack in a
// fresh `node` with nothing but the environment a user would set (as __test__/readme.test.js does).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { sandbox, uniqueName, closedPort } = require('./helpers.js')

const ROOT = path.resolve(__dirname, '..')
const DOCS = path.join(ROOT, 'docs')
const DIR = path.join(DOCS, 'examples')
const GUIDES = ['networks.md', 'images.md', 'containers.md', 'events.md', 'errors.md']

function guideBlocks(guide) {
  const text = fs.readFileSync(path.join(DOCS, guide), 'utf8')
  const blocks = []
  const re = /(?:<!-- (example: ([^\s]+)|not run: [^>]+) -->\n)?```js\n([\s\S]*?)```/g
  for (const m of text.matchAll(re)) blocks.push({ marker: m[1], file: m[2], body: m[3] })
  return blocks
}

test('each guide is linked from the README and shows its examples verbatim; every example is shown', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const shown = new Set()
  for (const guide of GUIDES) {
    assert.ok(readme.includes(`](docs/${guide})`), `README links docs/${guide}`)
    const blocks = guideBlocks(guide)
    assert.ok(blocks.some((b) => b.file), `${guide} has a runnable example`)
    for (const b of blocks) {
      assert.ok(b.marker, `${guide}: a js block without <!-- example: … --> or <!-- not run: … -->:\n${b.body.slice(0, 200)}`)
      if (!b.file) continue
      assert.equal(b.body, fs.readFileSync(path.join(ROOT, b.file), 'utf8'), `${guide}: the block of ${b.file} differs from the file`)
      shown.add(path.basename(b.file))
    }
  }
  assert.deepEqual([...shown].sort(), fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort(), 'each example file is in a guide')
})

// `require('containerd-napi')` as in an installed project: a node_modules holding this checkout.
const modules = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-docs-'))
fs.symlinkSync(ROOT, path.join(modules, 'containerd-napi'))
test.after(() => fs.rmSync(modules, { recursive: true, force: true }))

function run(file, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(DIR, file)], { cwd: os.tmpdir(), timeout: 60_000, env: { ...process.env, NODE_PATH: modules, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr }))
  })
}

const sb = sandbox()
for (const file of fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort()) {
  test(`guide example ${file} runs as shown`, async () => {
    const namespace = uniqueName('docs')
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
    // Every `… instanceof …` line of an example prints true.
    assert.doesNotMatch(r.stdout, /\bfalse\b/, r.stdout)
    // Nothing left behind: no container, task or network of its own; the namespace goes if empty.
    const { Client } = require('..')
    const client = await Client.connect({ address: sb.address, namespace })
    try {
      assert.deepEqual(await client.listContainers(), [])
      assert.deepEqual(await client.listTasks(), [])
      assert.deepEqual((await client.listNetworks()).filter((n) => n.name.startsWith('guide-')), [])
      await client.deleteNamespace(namespace).catch(() => {})
    } finally {
      await client.close()
    }
  })
}
