'use strict'
// Unit tier (no root, no daemon): `npm run docs` (TypeDoc over index.d.ts, typedoc.json) builds the
// API reference without a warning, and no file of the repository points at documentation outside it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '../..')

function exec(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr }))
  })
}

test('typedoc builds the API reference from index.d.ts, warnings being errors', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-docs-'))
  t.after(() => fs.rmSync(out, { recursive: true, force: true }))
  const bin = path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc')
  // typedoc.json has treatWarningsAsErrors: any warning fails the run.
  const r = await exec(process.execPath, [bin, '--out', path.join(out, 'html'), '--json', path.join(out, 'api.json')])
  assert.equal(r.code, 0, `typedoc failed:\n${r.stdout}\n${r.stderr}`)
  assert.doesNotMatch(r.stdout + r.stderr, /warning|error/i)

  const api = JSON.parse(fs.readFileSync(path.join(out, 'api.json'), 'utf8'))
  const byName = new Map(api.children.map((c) => [c.name, c]))
  for (const name of ['Client', 'Container', 'Task', 'Image', 'EventStream', 'ContainerdError', 'NotFoundError', 'httpStatus', 'ContainerOptions', 'NetworkOptions']) {
    assert.ok(byName.has(name), `${name} is documented`)
  }
  const client = byName.get('Client')
  const createNetwork = client.children.find((c) => c.name === 'createNetwork')
  assert.ok(createNetwork, 'Client.createNetwork is documented')
  assert.ok(createNetwork.signatures[0].comment?.summary.length > 0, 'with its doc comment')
  assert.ok(client.children.some((c) => c.name === 'connect' && c.flags.isStatic), 'Client.connect is static')

  const html = fs.readFileSync(path.join(out, 'html', 'classes', 'Client.html'), 'utf8')
  assert.match(html, /id="createnetwork"/)
  assert.ok(fs.existsSync(path.join(out, 'html', 'classes', 'Container.html')))
})

test('no tracked file points at documentation outside the repository', async () => {
  const r = await exec('git', ['ls-files', '-z'])
  assert.equal(r.code, 0, r.stderr)
  const self = path.relative(root, __filename)
  const offenders = []
  for (const file of r.stdout.split('\0').filter(Boolean)) {
    if (file === self || file.endsWith('.lock') || file === 'package-lock.json') continue
    let text
    try { text = fs.readFileSync(path.join(root, file), 'utf8') } catch { continue }   // e.g. a deleted file
    if (text.includes('../shared') || /\bAPI\.md\b/.test(text)) offenders.push(file)
  }
  assert.deepEqual(offenders, [])
})
