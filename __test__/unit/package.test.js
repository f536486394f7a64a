'use strict'
// Unit tier (no root, no daemon): the package's two faces (require and import) and its manifest.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '../..')
const pkg = require(root)
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

test('index.mjs names every export of index.js, each the same object', async () => {
  const esm = await import(path.join(root, 'index.mjs'))
  const named = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(named, Object.keys(pkg).sort())
  for (const name of named) assert.equal(esm[name], pkg[name], name)
  assert.equal(esm.default, pkg)
})

test('the exports map: types first, import/require/default, nothing else but package.json', () => {
  const dot = manifest.exports['.']
  assert.deepEqual(Object.keys(dot), ['types', 'import', 'require', 'default'])
  assert.deepEqual(Object.keys(manifest.exports).sort(), ['.', './package.json'])
  for (const file of Object.values(dot)) assert.ok(manifest.files.includes(file.slice(2)), `${file} is packed`)
})

test('the platform package matches the main one', () => {
  const platform = JSON.parse(fs.readFileSync(path.join(root, 'npm/linux-x64-gnu/package.json'), 'utf8'))
  assert.equal(platform.version, manifest.version)
  assert.deepEqual(platform.engines, manifest.engines)
  assert.deepEqual([platform.os, platform.cpu], [manifest.os, manifest.cpu])
  assert.equal(platform.name, `${manifest.name}-linux-x64-gnu`)
})
