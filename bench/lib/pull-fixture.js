'use strict'
// The pull benchmark's image: four gzip layers of ~48 MiB, each a tar holding one incompressible
// file (an AES-256-CTR keystream under a fixed per-layer key, like the sandbox's `large`
// fixture), plus a config and an OCI manifest for linux/amd64. The layers are built once into
// the fixtures' cache directory (deterministic: same digests on every machine) and the image is
// pushed to the sandbox registry with skopeo.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { CACHE } = require('../../scripts/fixtures.js')
const { run } = require('./procs.js')

const SPEC = { version: 'bench-pull-v1', count: 4, size: 48 << 20, level: 1 }
const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
}
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

/** A ustar header (mtime 0, owner 0:0). */
function tarHeader(name, size, directory) {
  const h = Buffer.alloc(512)
  const field = (offset, length, value) => h.write(value, offset, length, 'ascii')
  const octal = (offset, length, n) => field(offset, length, n.toString(8).padStart(length - 1, '0') + '\0')
  field(0, 100, name)
  octal(100, 8, directory ? 0o755 : 0o644)
  octal(108, 8, 0)
  octal(116, 8, 0)
  octal(124, 12, size)
  octal(136, 12, 0)
  field(148, 8, ' '.repeat(8))
  field(156, 1, directory ? '5' : '0')
  field(257, 8, 'ustar\x0000')
  octal(329, 8, 0)
  octal(337, 8, 0)
  let sum = 0
  for (const byte of h) sum += byte
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
  return h
}

function buildLayer(n) {
  const key = crypto.createHash('sha256').update(`containerd-napi bench pull, layer ${n}`).digest()
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const data = Buffer.concat([cipher.update(Buffer.alloc(SPEC.size)), cipher.final()])
  const tar = Buffer.concat([tarHeader('data/', 0, true), tarHeader(`data/layer${n}.bin`, SPEC.size, false), data,
    Buffer.alloc((512 - (SPEC.size % 512)) % 512), Buffer.alloc(1024)])
  const gz = zlib.gzipSync(tar, { level: SPEC.level })
  return { blob: gz, digest: `sha256:${sha256(gz)}`, diffId: `sha256:${sha256(tar)}`, size: gz.length }
}

/** [{ file, digest, diffId, size }], built once into CACHE/<version> (or `fallbackDir`). */
function layers(fallbackDir) {
  const tryDir = (dir) => {
    try {
      const list = JSON.parse(fs.readFileSync(path.join(dir, 'layers.json'), 'utf8')).map((l) => ({ ...l, file: path.join(dir, l.file) }))
      return list.length === SPEC.count && list.every((l) => fs.statSync(l.file).size === l.size) ? list : null
    } catch {
      return null
    }
  }
  const candidates = [path.join(CACHE, SPEC.version), path.join(fallbackDir, SPEC.version)]
  for (const dir of candidates) {
    const found = tryDir(dir)
    if (found) return found
  }
  for (const dir of candidates) {
    try {
      fs.mkdirSync(path.dirname(dir), { recursive: true })
      const tmp = fs.mkdtempSync(`${dir}.tmp-`)
      const list = []
      for (let n = 1; n <= SPEC.count; n++) {
        const { blob, digest, diffId, size } = buildLayer(n)
        fs.writeFileSync(path.join(tmp, `layer${n}.tar.gz`), blob)
        list.push({ file: `layer${n}.tar.gz`, digest, diffId, size })
      }
      fs.writeFileSync(path.join(tmp, 'layers.json'), JSON.stringify(list, null, 2) + '\n')
      fs.chmodSync(tmp, 0o755)
      fs.rmSync(dir, { recursive: true, force: true })
      fs.renameSync(tmp, dir)
      return tryDir(dir)
    } catch (err) {
      if (dir === candidates[candidates.length - 1]) throw err
    }
  }
}

/** Builds the OCI layout under `workDir` and pushes it to `registry`; returns its description. */
async function pushPullFixture(workDir, registry) {
  const built = layers(workDir)
  const layout = path.join(workDir, 'bench-pull-layout')
  fs.rmSync(layout, { recursive: true, force: true })
  fs.mkdirSync(path.join(layout, 'blobs/sha256'), { recursive: true })
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  const write = (buf) => {
    const hex = sha256(buf)
    fs.writeFileSync(path.join(layout, 'blobs/sha256', hex), buf)
    return { digest: `sha256:${hex}`, size: buf.length }
  }
  for (const l of built) fs.symlinkSync(l.file, path.join(layout, 'blobs/sha256', l.digest.slice('sha256:'.length)))
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
    history: built.map(() => ({ created_by: 'containerd-napi bench' })),
  }))
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, ...write(config) },
    layers: built.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  }))
  const top = { mediaType: MEDIA.manifest, ...write(manifest) }
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }))
  const ref = `${registry}/bench-pull:latest`
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${ref}`])
  return {
    ref,
    manifestDigest: top.digest,
    layers: built.map(({ digest, size }) => ({ digest, size })),
    totalBytes: built.reduce((a, l) => a + l.size, 0) + config.length + manifest.length,
  }
}

module.exports = { pushPullFixture, SPEC }
