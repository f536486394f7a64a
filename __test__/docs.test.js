'use strict'
// The guides' examples (docs/*.md) are the files under docs/examples/: each guide block marked
// `<!-- example: docs/examples/NAME.js -->` must equal its file, every other js block of a guide
// must say why it is not run (`<!-- not run: … -->`), and each file runs against the test stack in a
// fresh `node` with nothing but the environment a user would set (as __test__/readme.test.js does).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, jsBlocks, exampleRunner, assertNothingLeft } = require('./examples.js')

const DOCS = path.join(ROOT, 'docs')
const DIR = path.join(DOCS, 'examples')
const GUIDES = ['networks.md', 'images.md', 'containers.md', 'events.md', 'errors.md']

test('each guide is linked from the README and shows its examples verbatim; every example is shown', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const shown = new Set()
  for (const guide of GUIDES) {
    assert.ok(readme.includes(`](docs/${guide})`), `README links docs/${guide}`)
    const blocks = jsBlocks(path.join(DOCS, guide))
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

const run = exampleRunner(DIR, { prefix: 'docs', timeoutMs: 60_000 })
for (const file of fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort()) {
  test(`guide example ${file} runs as shown`, async () => {
    const r = await run(file)
    assert.equal(r.code, 0, `${file} failed:\n${r.stderr}\n${r.stdout}`)
    assert.doesNotMatch(r.stderr, /Warning|Error/, r.stderr)
    // Every `… instanceof …` line of an example prints true.
    assert.doesNotMatch(r.stdout, /\bfalse\b/, r.stdout)
    // Nothing left behind: no container, task or network of its own; the namespace goes if empty.
    await assertNothingLeft(r.namespace, (n) => n.name.startsWith('guide-'))
  })
}
