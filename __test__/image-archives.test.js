'use strict'
// importImages against the sandbox daemon: round trips from exportImages, skopeo (docker-archive:,
// oci-archive:) and `ctr images export`, plain and gzip, from a path, a Buffer and a stream;
// malformed, truncated and corrupt archives leave nothing behind; memory stays bounded.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile, execFileSync } = require('node:child_process')
const { promisify } = require('node:util')
const { pipeline } = require('node:stream/promises')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { Client, Image, InvalidArgumentError, DataLossError, NotFoundError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const execFileAsync = promisify(execFile)
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-import-'))
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))

async function client(ns = uniqueName('imp')) {
  return Client.connect({ address: sb.address, namespace: ns })
}

/** Leases, image names and content digests of a namespace, as ctr sees them. */
function state(ns) {
  const col = (text) => text.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0])
  return {
    leases: col(ctr(ns, 'leases', 'ls')),
    images: col(ctr(ns, 'images', 'ls')),
    content: col(ctr(ns, 'content', 'ls')),
  }
}

/** Exports `refs` from a fresh namespace into a file; returns the file and the source images. */
async function exported(refs, name) {
  const c = await client()
  const imgs = []
  for (const ref of refs) imgs.push(await c.pull(ref, { unpack: false }))
  const file = path.join(tmp, name)
  await pipeline(await c.exportImages(refs), fs.createWriteStream(file))
  await c.close()
  return { file, imgs }
}

/** A tar made by GNU tar from a directory of files ({ relative path: content }). */
function makeTar(name, files, { gzip = false } = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, 'tree-'))
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), content)
  }
  const file = path.join(tmp, name)
  execFileSync('tar', [gzip ? '-czf' : '-cf', file, '-C', dir, ...Object.keys(files)])
  return file
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex')

test('importImages: our export back in another namespace, from a path, a Buffer, a stream and gzip', async () => {
  const { file, imgs } = await exported([sb.images.busybox, sb.images.multilayer], 'two.tar')
  const gz = path.join(tmp, 'two.tar.gz')
  await pipeline(fs.createReadStream(file), zlib.createGzip(), fs.createWriteStream(gz))
  const sources = {
    path: () => file,
    buffer: () => fs.readFileSync(file),
    stream: () => fs.createReadStream(file, { highWaterMark: 64 << 10 }),
    gzipPath: () => gz,
    gzipStream: () => fs.createReadStream(gz),
  }
  for (const [kind, source] of Object.entries(sources)) {
    const ns = uniqueName('imp')
    const c = await client(ns)
    const imported = await c.importImages(source(), { labels: { via: kind } })
    assert.equal(imported.length, 2, kind)
    for (const [i, img] of imported.entries()) {
      assert.ok(img instanceof Image)
      assert.equal(img.name, imgs[i].name, kind)
      assert.deepEqual(img.target, imgs[i].target, kind)
      assert.deepEqual(img.labels, { via: kind })
      assert.equal(await img.isUnpacked(), true, `${kind}: ${img.name} unpacked`)
    }
    assert.deepEqual(state(ns).leases, [], `${kind}: no lease left`)
    if (kind === 'stream') {
      assert.match(ctr(ns, 'run', '--rm', sb.images.multilayer, uniqueName('c'), 'echo', 'imported-ok'), /imported-ok/)
      // Importing the same archive again is fine (everything exists already).
      const again = await c.importImages(source(), { unpack: false })
      assert.deepEqual(again.map((i) => i.target.digest), imgs.map((i) => i.target.digest))
    }
    await c.close()
  }
})

test('importImages: skopeo docker-archive (RepoTags, symlinked layers) and oci-archive (ref name), gzip too', async () => {
  const src = `docker://${sb.images.multilayer}`
  const docker = path.join(tmp, 'skopeo-docker.tar')
  const oci = path.join(tmp, 'skopeo-oci.tar')
  await execFileAsync('skopeo', ['copy', '--src-tls-verify=false', src, `docker-archive:${docker}:team/multi:v1`])
  await execFileAsync('skopeo', ['copy', '--src-tls-verify=false', src, `oci-archive:${oci}:multi:v2`])
  const listing = execFileSync('tar', ['-tvf', docker], { encoding: 'utf8' })
  assert.match(listing, /^l.*layer\.tar -> /m, 'skopeo writes symlinked layer.tar entries')
  const dockerGz = path.join(tmp, 'skopeo-docker.tar.gz')
  await pipeline(fs.createReadStream(docker), zlib.createGzip(), fs.createWriteStream(dockerGz))

  const ns = uniqueName('imp-skopeo')
  const c = await client(ns)
  const [d] = await c.importImages(docker)
  assert.equal(d.name, 'docker.io/team/multi:v1')
  assert.equal(d.target.mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
  assert.equal(await d.isUnpacked(), true)
  const config = await d.config()
  assert.equal(config.rootfs.diff_ids.length, 3)
  assert.match(ctr(ns, 'run', '--rm', d.name, uniqueName('c'), 'echo', 'docker-archive-ok'), /docker-archive-ok/)
  // The manifest written for it references its blobs: ctr sees the image complete.
  assert.match(ctr(ns, 'images', 'check'), /complete/)

  const [g] = await c.importImages(fs.createReadStream(dockerGz), { unpack: false })
  assert.deepEqual(g.target, d.target, 'the gzip of the same archive gives the same manifest')

  const [o] = await c.importImages(fs.createReadStream(oci))
  assert.equal(o.name, 'docker.io/library/multi:v2')
  assert.equal(await o.isUnpacked(), true)
  assert.match(ctr(ns, 'run', '--rm', o.name, uniqueName('c'), 'echo', 'oci-archive-ok'), /oci-archive-ok/)
  assert.deepEqual(state(ns).leases, [])
  await c.close()
})

test('importImages: an archive from `ctr images export`', async () => {
  const from = uniqueName('imp-ctr')
  const c1 = await client(from)
  const img = await c1.pull(sb.images.busybox, { unpack: false })
  const file = path.join(tmp, 'ctr-export.tar')
  ctr(from, 'images', 'export', file, img.name)
  await c1.close()
  const ns = uniqueName('imp-ctr2')
  const c = await client(ns)
  const [i] = await c.importImages(file)
  assert.equal(i.name, img.name)
  assert.equal(i.target.digest, img.target.digest)
  assert.equal(await i.isUnpacked(), true)
  await c.close()
})

test('importImages: malformed, truncated and corrupt archives fail typed and leave nothing', async () => {
  const ns = uniqueName('imp-bad')
  const c = await client(ns)
  const before = state(ns)
  const { file } = await exported([sb.images.busybox], 'one.tar')
  const whole = fs.readFileSync(file)

  // Not a tar at all; a tar that is no image archive; a truncated archive.
  await rejectsWith(c.importImages(crypto.randomBytes(4096)), InvalidArgumentError)
  await rejectsWith(c.importImages(makeTar('plain.tar', { 'hello.txt': 'hi' })), InvalidArgumentError, /not an image archive/)
  await rejectsWith(c.importImages(whole.subarray(0, Math.floor(whole.length * 0.6))), InvalidArgumentError, /truncated/)
  await rejectsWith(c.importImages(path.join(tmp, 'nope.tar')), NotFoundError)
  await rejectsWith(c.importImages(42), InvalidArgumentError)
  await rejectsWith(c.importImages(file, { unpack: 'yes' }), InvalidArgumentError)

  // A blob whose bytes are not its name's digest (a fresh random one: no namespace has it).
  const good = crypto.randomBytes(100_000)
  const bad = Buffer.from(good)
  bad[500] ^= 0xff
  const fake = `blobs/sha256/${sha(good)}`
  const badTar = makeTar('bad.tar', { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', [fake]: bad })
  await rejectsWith(c.importImages(badTar), DataLossError)
  await rejectsWith(c.importImages(fs.createReadStream(badTar)), DataLossError)

  // A docker archive whose layer does not match the config's diff ID.
  const layer = crypto.randomBytes(3000)
  const cfg = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(Buffer.from('other'))}`] },
  }))
  const dockerBad = makeTar('docker-bad.tar', {
    [`${sha(cfg)}.json`]: cfg,
    'abc/layer.tar': layer,
    'manifest.json': JSON.stringify([{ Config: `${sha(cfg)}.json`, RepoTags: ['bad:1'], Layers: ['abc/layer.tar'] }]),
  })
  await rejectsWith(c.importImages(dockerBad), DataLossError, /diff ID/)

  const after = state(ns)
  assert.deepEqual(after.leases, before.leases, 'no lease left')
  assert.deepEqual(after.images, before.images, 'no image left')
  for (const d of [sha(good), sha(layer), sha(cfg)]) {
    assert.ok(!after.content.includes(`sha256:${d}`), `no blob ${d} left`)
  }
  assert.equal(ctr(ns, 'content', 'active').split('\n').filter(Boolean).length <= 1, true, 'no ingest left')
  await c.close()
})

test('importImages of the largest fixture from a stream: under 64 MiB of extra RSS', async () => {
  const { file, imgs } = await exported([sb.images.large], 'large.tar')
  const size = fs.statSync(file).size
  // In a process of its own, so the figure is the import's: peak RSS (maxRSS) over the RSS
  // after connecting.
  const script = `
    const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const fs = require('node:fs')
    ;(async () => {
      const c = await Client.connect({ address: process.argv[1], namespace: process.argv[2] })
      await c.listImages()
      const base = process.memoryUsage().rss
      const [img] = await c.importImages(fs.createReadStream(process.argv[3]))
      console.log(JSON.stringify({ base, peak: process.resourceUsage().maxRSS * 1024, digest: img.target.digest }))
      await c.close()
    })().catch((e) => { console.error(e); process.exit(1) })`
  const { stdout } = await execFileAsync(process.execPath, ['-e', script, sb.address, uniqueName('imp-large'), file])
  const { base, peak, digest } = JSON.parse(stdout)
  assert.equal(digest, imgs[0].target.digest)
  const extra = (peak - base) / (1 << 20)
  console.log(`# import of ${(size / (1 << 20)).toFixed(1)} MiB from a stream: peak extra RSS ${extra.toFixed(1)} MiB`)
  assert.ok(extra < 64, `extra RSS ${extra.toFixed(1)} MiB`)
})
