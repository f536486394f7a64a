'use strict'
// The README's examples are the files under examples/readme/: each README block marked
// `<!-- example: examples/readme/NAME.js -->` must equal its file, every other js block of the
// README must say why it is not run (`<!-- not run: … -->`), and each file runs against the test
// stack in a fresh `node` with nothing but the environment a user would set.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, jsBlocks, exampleRunner, assertNothingLeft } = require('./examples.js')

const DIR = path.join(ROOT, 'examples', 'readme')

test('every js block of the README is an example file (verbatim) or says why it is not run', () => {
  const blocks = jsBlocks(path.join(ROOT, 'README.md'))
  const shown = new Set()
  for (const b of blocks) {
    assert.ok(b.marker, `a js block without <!-- example: … --> or <!-- not run: … -->:\n${b.body.slice(0, 200)}`)
    if (!b.file) continue
    assert.equal(b.body, fs.readFileSync(path.join(ROOT, b.file), 'utf8'), `README block of ${b.file} differs from the file`)
    shown.add(path.basename(b.file))
  }
  assert.deepEqual([...shown].sort(), fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort(), 'each example file is in the README')
})

const run = exampleRunner(DIR, { prefix: 'readme', timeoutMs: 90_000 })
for (const file of fs.readdirSync(DIR).filter((f) => f.endsWith('.js')).sort()) {
  test(`README example ${file} runs as shown`, async () => {
    const r = await run(file)
    assert.equal(r.code, 0, `${file} failed:\n${r.stderr}\n${r.stdout}`)
    assert.doesNotMatch(r.stderr, /Warning|Error/, r.stderr)
    // Nothing left behind in its namespace (the namespace itself goes if empty).
    await assertNothingLeft(r.namespace)
  })
}
