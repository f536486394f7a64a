'use strict'
// Fixture images built offline from the busybox-static binary: each is written as an OCI image
// layout and pushed to the sandbox registry with skopeo. Builds are deterministic (fixed mtimes,
// owners and order), so the same fixture has the same digests on every run.
// Later issues add images to FIXTURES.

const { execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')

const BUSYBOX = '/bin/busybox'

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

/** A minimal root filesystem: busybox, its applet links, and the files a container expects. */
function busyboxRootfs(dir) {
  fs.mkdirSync(dir, { recursive: true })
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/www']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true })
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777)
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'))
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755)
  // --list-full names each applet with its usual directory (bin/sh, usr/bin/env, ...).
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  for (const applet of applets) {
    const target = path.join(dir, applet)
    if (applet === 'bin/busybox' || fs.existsSync(target)) continue
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.symlinkSync('/bin/busybox', target)
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
}

/** A gzip-compressed layer tar of `dir`, with its digest and diff ID. */
function layerFromDir(dir) {
  const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0',
    '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', dir, '-cf', '-', '.'],
  { maxBuffer: 1 << 30 })
  const gz = zlib.gzipSync(tar, { level: 6 })
  return { blob: gz, digest: `sha256:${sha256(gz)}`, diffId: `sha256:${sha256(tar)}` }
}

function writeBlob(layout, buf) {
  const hex = sha256(buf)
  fs.writeFileSync(path.join(layout, 'blobs/sha256', hex), buf)
  return { digest: `sha256:${hex}`, size: buf.length }
}

/** Writes a single-platform OCI image layout for `layers` and `config`; returns its directory. */
function writeLayout(layout, tag, layers, imageConfig) {
  fs.rmSync(layout, { recursive: true, force: true })
  fs.mkdirSync(path.join(layout, 'blobs/sha256'), { recursive: true })
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: 'containerd-napi fixtures' })),
  }))
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...writeBlob(layout, config) },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...writeBlob(layout, l.blob) })),
  }))
  const m = writeBlob(layout, manifest)
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }))
  return layout
}

const FIXTURES = [
  {
    name: 'busybox',
    tag: 'latest',
    build(work) {
      const rootfs = path.join(work, 'rootfs')
      busyboxRootfs(rootfs)
      return writeLayout(path.join(work, 'layout'), this.tag, [layerFromDir(rootfs)], {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['sh'],
      })
    },
  },
]

/** Builds every fixture under `workDir` and pushes it to `registry` (host:port, plain HTTP). */
function pushFixtures(workDir, registry) {
  const images = {}
  for (const fixture of FIXTURES) {
    const work = path.join(workDir, fixture.name)
    fs.rmSync(work, { recursive: true, force: true })
    const layout = fixture.build(work)
    const ref = `${registry}/${fixture.name}:${fixture.tag}`
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${fixture.tag}`, `docker://${ref}`],
      { stdio: ['ignore', 'ignore', 'pipe'] })
    images[fixture.name] = ref
    fs.rmSync(path.join(work, 'rootfs'), { recursive: true, force: true })
  }
  return images
}

module.exports = { pushFixtures, FIXTURES }
