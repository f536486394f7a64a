'use strict'
// Fixture images built offline from the busybox-static binary: each is written as an OCI image
// layout and pushed to the sandbox registries with skopeo. Builds are deterministic (fixed mtimes,
// owners and order), so the same fixture has the same digests on every run. After the push,
// describeImage() reads back what the registry serves, so tests assert against real digests.
// Later issues add images to FIXTURES.

const { execFile, execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { promisify } = require('node:util')
const zlib = require('node:zlib')

const execFileAsync = promisify(execFile)
const BUSYBOX = '/bin/busybox'
// Downloads and builds that outlive a sandbox (the arm64 busybox binary, the large fixture's layers).
const CACHE = path.resolve(process.env.CONTAINERD_NAPI_CACHE || '/var/cache/containerd-napi')

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
}
const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

/** A minimal root filesystem: busybox, its applet links, and the files a container expects. */
function busyboxRootfs(dir, binary = BUSYBOX) {
  fs.mkdirSync(dir, { recursive: true })
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/www']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true })
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777)
  fs.copyFileSync(binary, path.join(dir, 'bin/busybox'))
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755)
  // --list-full names each applet with its usual directory (bin/sh, usr/bin/env, ...). Always asked
  // of the host's busybox: a foreign binary cannot run here, and Debian builds every architecture
  // with the same applet configuration.
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

/** A directory holding `files` ({ 'data/keep.txt': 'keep\n' }), for small layers. */
function filesDir(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), content)
  }
  return dir
}

/** A gzip-compressed layer tar of `dir`, with its digest and diff ID. */
function layerFromDir(dir) {
  const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0',
    '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', dir, '-cf', '-', '.'],
  { maxBuffer: 1 << 30 })
  const gz = zlib.gzipSync(tar, { level: 6 })
  return { blob: gz, digest: `sha256:${sha256(gz)}`, diffId: `sha256:${sha256(tar)}` }
}

/**
 * The arm64 busybox-static binary, taken from Debian's arm64 package. Downloaded once into CACHE
 * (adding arm64 as a foreign dpkg architecture so apt knows the package), then reused.
 */
function arm64Busybox() {
  const root = path.join(CACHE, 'busybox-static-arm64')
  const binary = path.join(root, 'bin/busybox')
  if (fs.existsSync(binary)) return binary
  if (process.getuid() !== 0) throw new Error(`${binary} is missing: run the sandbox once as root to download busybox-static:arm64`)
  fs.mkdirSync(CACHE, { recursive: true })
  const tmp = fs.mkdtempSync(path.join(CACHE, 'download-'))
  const run = (program, args) => execFileSync(program, args, {
    cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  try {
    if (!run('dpkg', ['--print-foreign-architectures']).split('\n').includes('arm64')) run('dpkg', ['--add-architecture', 'arm64'])
    // The download runs as root into a private directory apt's _apt user cannot write: say so,
    // instead of letting apt warn about it.
    const download = () => run('apt-get', ['download', '-qq', '-o', 'APT::Sandbox::User=root', 'busybox-static:arm64'])
    try {
      download()
    } catch {
      run('apt-get', ['update', '-qq']) // the package lists do not know arm64 yet
      download()
    }
    const deb = fs.readdirSync(tmp).find((f) => f.endsWith('.deb'))
    run('dpkg-deb', ['-x', deb, 'root'])
    const elf = fs.readFileSync(path.join(tmp, 'root/bin/busybox')).subarray(0, 20)
    if (elf.readUInt16LE(18) !== 183) throw new Error(`${deb} does not hold an aarch64 binary`) // EM_AARCH64
    try {
      fs.renameSync(path.join(tmp, 'root'), root) // atomic: a concurrent start sees all or nothing
    } catch (err) {
      if (!fs.existsSync(binary)) throw err // else another start won the race, with the same file
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return binary
}

/**
 * The large fixture's layers: LARGE.count gzip layers, each a tar of one file data/blobN.bin of
 * LARGE.size pseudo-random (incompressible) bytes, an AES-256-CTR keystream under a key fixed per
 * layer. Bump `version` whenever what is built here changes: it names the cache directory.
 */
const LARGE = { version: 'large-v1', count: 3, size: 32 << 20, level: 1 }

/**
 * A ustar header block for `name`: mtime 0 like layerFromDir's tars, owner 0:0 and mode 0755 (a
 * directory) or 0644 unless `uid`, `gid` or `mode` say otherwise (numeric owners only).
 */
function tarHeader(name, size, directory, { uid = 0, gid = 0, mode = directory ? 0o755 : 0o644 } = {}) {
  const h = Buffer.alloc(512)
  const field = (offset, length, value) => h.write(value, offset, length, 'ascii')
  const octal = (offset, length, n) => field(offset, length, n.toString(8).padStart(length - 1, '0') + '\0')
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long for ustar: ${name}`)
  field(0, 100, name)
  octal(100, 8, mode)
  octal(108, 8, uid)
  octal(116, 8, gid)
  octal(124, 12, size)
  octal(136, 12, 0) // mtime
  field(148, 8, ' '.repeat(8)) // the checksum counts its own field as spaces
  field(156, 1, directory ? '5' : '0')
  field(257, 8, 'ustar\x0000')
  octal(329, 8, 0) // devmajor
  octal(337, 8, 0) // devminor
  let sum = 0
  for (const byte of h) sum += byte
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
  return h
}

/**
 * A gzip-compressed layer written here rather than by GNU tar, whose --owner/--group apply to
 * every file: `entries` is [{ name, content?, uid?, gid?, mode? }] in archive order, a name
 * ending in '/' being a directory. Deterministic like layerFromDir: { blob, digest, diffId }.
 */
function layerFromEntries(entries) {
  const parts = []
  for (const { name, content, ...owner } of entries) {
    const directory = name.endsWith('/')
    const data = directory ? Buffer.alloc(0) : Buffer.from(content)
    parts.push(tarHeader(name, data.length, directory, owner), data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  const tar = Buffer.concat([...parts, Buffer.alloc(1024)]) // end of archive: two zero blocks
  const gz = zlib.gzipSync(tar, { level: 6 })
  return { blob: gz, digest: `sha256:${sha256(gz)}`, diffId: `sha256:${sha256(tar)}` }
}

/** Layer n (1-based) of the large fixture: { blob, digest, diffId }. */
function largeLayer(n) {
  const key = crypto.createHash('sha256').update(`containerd-napi fixture large, layer ${n}`).digest()
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const data = Buffer.concat([cipher.update(Buffer.alloc(LARGE.size)), cipher.final()])
  const padding = Buffer.alloc((512 - (LARGE.size % 512)) % 512)
  const tar = Buffer.concat([tarHeader('data/', 0, true), tarHeader(`data/blob${n}.bin`, LARGE.size, false), data, padding,
    Buffer.alloc(1024)]) // end of archive: two zero blocks
  const gz = zlib.gzipSync(tar, { level: LARGE.level })
  return { blob: gz, digest: `sha256:${sha256(gz)}`, diffId: `sha256:${sha256(tar)}` }
}

/**
 * The large fixture's layers, built once into CACHE/<LARGE.version> (atomically: a temporary
 * directory renamed into place) and reused: [{ file, digest, diffId, size }], linked into layouts
 * by writeImage(). Where CACHE cannot be written, they are built in memory on every start.
 */
function largeLayers() {
  const dir = path.join(CACHE, LARGE.version)
  const cached = () => {
    try {
      const layers = JSON.parse(fs.readFileSync(path.join(dir, 'layers.json'), 'utf8'))
        .map((l) => ({ ...l, file: path.join(dir, l.file) }))
      return layers.length === LARGE.count && layers.every((l) => fs.statSync(l.file).size === l.size) ? layers : null
    } catch {
      return null
    }
  }
  const found = cached()
  if (found) return found
  let tmp
  try {
    fs.mkdirSync(CACHE, { recursive: true })
    tmp = fs.mkdtempSync(path.join(CACHE, `${LARGE.version}.tmp-`))
  } catch {
    return Array.from({ length: LARGE.count }, (_, i) => largeLayer(i + 1))
  }
  try {
    const layers = []
    for (let n = 1; n <= LARGE.count; n++) {
      const { blob, digest, diffId } = largeLayer(n)
      const file = `layer${n}.tar.gz`
      fs.writeFileSync(path.join(tmp, file), blob)
      layers.push({ file, digest, diffId, size: blob.length })
    }
    fs.writeFileSync(path.join(tmp, 'layers.json'), JSON.stringify(layers, null, 2) + '\n')
    fs.chmodSync(tmp, 0o755) // mkdtemp made it private
    if (!cached()) {
      fs.rmSync(dir, { recursive: true, force: true }) // a damaged copy, if any
      try {
        fs.renameSync(tmp, dir)
      } catch (err) {
        if (!cached()) throw err // else a concurrent start won the race, with the same layers
      }
    } // else a concurrent start has put the same layers there meanwhile
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return cached()
}

function writeBlob(layout, buf) {
  const hex = sha256(buf)
  fs.writeFileSync(path.join(layout, 'blobs/sha256', hex), buf)
  return { digest: `sha256:${hex}`, size: buf.length }
}

/** Puts a cached layer file ({ file, digest, size }) into `layout` as a symlink, not a copy. */
function linkBlob(layout, { file, digest, size }) {
  fs.symlinkSync(file, path.join(layout, 'blobs/sha256', digest.replace(/^sha256:/, '')))
  return { digest, size }
}

function newLayout(layout) {
  fs.rmSync(layout, { recursive: true, force: true })
  fs.mkdirSync(path.join(layout, 'blobs/sha256'), { recursive: true })
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  return layout
}

/** Writes the config and manifest of one image into `layout`; returns the manifest's descriptor. */
function writeImage(layout, layers, imageConfig, platform = { os: 'linux', architecture: 'amd64' }) {
  const config = Buffer.from(JSON.stringify({
    ...platform,
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: 'containerd-napi fixtures' })),
  }))
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, ...writeBlob(layout, config) },
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, ...(l.file ? linkBlob(layout, l) : writeBlob(layout, l.blob)) })),
  }))
  return { mediaType: MEDIA.manifest, ...writeBlob(layout, manifest) }
}

/** Names `descriptor` (a manifest or an index) `tag` in the layout's index.json; returns the layout. */
function tagLayout(layout, tag, descriptor) {
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }))
  return layout
}

/** Writes a single-platform (linux/amd64) OCI image layout for `layers` and `config`; returns its directory. */
function writeLayout(layout, tag, layers, imageConfig) {
  newLayout(layout)
  return tagLayout(layout, tag, writeImage(layout, layers, imageConfig))
}

const FIXTURES = [
  {
    name: 'busybox',
    tag: 'latest',
    build(work, base) {
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox()], { Env: ENV, Cmd: ['sh'] })
    },
  },
  {
    // Three layers: the rootfs, two files, then an OCI whiteout deleting one of them again.
    name: 'multilayer',
    tag: 'latest',
    build(work, base) {
      const add = layerFromDir(filesDir(path.join(work, 'add'), { 'data/keep.txt': 'keep\n', 'data/gone.txt': 'gone\n' }))
      const del = layerFromDir(filesDir(path.join(work, 'delete'), { 'data/.wh.gone.txt': '', 'data/layer3.txt': 'layer3\n' }))
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox(), add, del], { Env: ENV, Cmd: ['sh'] })
    },
  },
  {
    // An OCI image index: linux/amd64 and linux/arm64/v8, each with a busybox of its architecture.
    name: 'multiarch',
    tag: 'latest',
    copy: ['--all'],
    build(work, base) {
      const layout = newLayout(path.join(work, 'layout'))
      const platforms = [
        { platform: { os: 'linux', architecture: 'amd64' }, layer: base.busybox() },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layer: base.busybox('arm64') },
      ]
      const manifests = platforms.map(({ platform, layer }) =>
        ({ ...writeImage(layout, [layer], { Env: ENV, Cmd: ['sh'] }, platform), platform }))
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests }))
      return tagLayout(layout, this.tag, { mediaType: MEDIA.index, ...writeBlob(layout, index) })
    },
  },
  {
    // Pulled only through the corrupting proxy: its config and second layer exist nowhere else,
    // so a daemon can never skip them as already present, and the damage is always seen.
    name: 'corrupt',
    tag: 'latest',
    build(work, base) {
      const unique = layerFromDir(filesDir(path.join(work, 'unique'), { 'data/unique.txt': 'only behind the corrupting proxy\n' }))
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox(), unique], { Env: [...ENV, 'FIXTURE=corrupt'], Cmd: ['sh'] })
    },
  },
  {
    // The busybox image again, pushed with Docker schema 2 media types (skopeo converts).
    name: 'v2s2',
    tag: 'latest',
    copy: ['--format', 'v2s2'],
    build(work, base) {
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox()], { Env: ENV, Cmd: ['sh'] })
    },
  },
  {
    // Sets every field the runtime spec takes from an image (User, WorkingDir, Env, Entrypoint,
    // Cmd), over a layer with users and groups to resolve them: `app` (1234:1234, also in group
    // `extra`, 2345) and `other` (4321:4321), and home directories owned by them. Running it
    // prints `expect.output`. `expect` goes into sandbox.json as fixtures.config.expect.
    name: 'config',
    tag: 'latest',
    expect: {
      user: 'app',
      uid: 1234,
      gid: 1234,
      groups: [1234, 2345],
      workdir: '/home/app',
      env: { PATH: ENV[0].slice('PATH='.length), GREETING: 'hello', FIXTURE: 'config' },
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['echo "$GREETING from $(id -un) uid=$(id -u) gid=$(id -g) groups=$(id -G) in $(pwd)"'],
      output: 'hello from app uid=1234 gid=1234 groups=1234 2345 in /home/app\n',
      other: { user: 'other', uid: 4321, gid: 4321, groups: [4321], home: '/home/other' },
    },
    build(work, base) {
      const { expect } = this
      const users = layerFromEntries([
        { name: 'etc/' },
        { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\napp:x:1234:\nextra:x:2345:app\nother:x:4321:\n' },
        {
          name: 'etc/passwd',
          content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' +
            'app:x:1234:1234:app:/home/app:/bin/sh\nother:x:4321:4321:other:/home/other:/bin/sh\n',
        },
        { name: 'home/' },
        { name: 'home/app/', uid: 1234, gid: 1234 },
        { name: 'home/other/', uid: 4321, gid: 4321 },
      ])
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox(), users], {
        User: expect.user,
        WorkingDir: expect.workdir,
        Env: Object.entries(expect.env).map(([k, v]) => `${k}=${v}`),
        Entrypoint: expect.entrypoint,
        Cmd: expect.cmd,
      })
    },
  },
  {
    // A web server for networking tests: busybox httpd serving /var/www/index.html. Tests pass
    // their own port as args; the image's Cmd is only a default.
    name: 'httpd',
    tag: 'latest',
    expect: { body: 'hello from httpd fixture\n' },
    build(work, base) {
      const site = layerFromDir(filesDir(path.join(work, 'site'), { 'var/www/index.html': this.expect.body }))
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox(), site],
        { Env: ENV, Cmd: ['httpd', '-f', '-v', '-p', '127.0.0.1:18080', '-h', '/var/www'] })
    },
  },
  {
    // Busybox plus three layers of ~32 MiB each, one incompressible file /data/blobN.bin in each,
    // for progress, abort and throughput tests. The large layers are built once into CACHE.
    name: 'large',
    tag: 'latest',
    build(work, base) {
      return writeLayout(path.join(work, 'layout'), this.tag, [base.busybox(), ...largeLayers()], { Env: ENV, Cmd: ['sh'] })
    },
  },
]

/**
 * Builds every fixture's OCI layout under `workDir` (synchronously: the caller overlaps it with
 * daemon start-up). Returns { name: { layout, tag, copy } } for pushImage().
 */
function buildFixtures(workDir) {
  fs.rmSync(workDir, { recursive: true, force: true })
  // The busybox layer of each architecture, built once and shared by the fixtures that use it.
  const layers = {}
  const base = {
    busybox(arch = 'amd64') {
      if (!layers[arch]) {
        const rootfs = path.join(workDir, `rootfs-${arch}`)
        busyboxRootfs(rootfs, arch === 'amd64' ? BUSYBOX : arm64Busybox())
        layers[arch] = layerFromDir(rootfs)
        fs.rmSync(rootfs, { recursive: true, force: true })
      }
      return layers[arch]
    },
  }
  const built = {}
  for (const fixture of FIXTURES) {
    const work = path.join(workDir, fixture.name)
    const layout = fixture.build(work, base)
    for (const entry of fs.readdirSync(work)) if (entry !== 'layout') fs.rmSync(path.join(work, entry), { recursive: true })
    built[fixture.name] = { layout, tag: fixture.tag, copy: fixture.copy || [] }
  }
  return built
}

/** Pushes a built fixture to `ref` (host/name:tag) with skopeo; `args` add credentials or TLS options. */
async function pushImage(fixture, ref, args = ['--dest-tls-verify=false']) {
  await execFileAsync('skopeo', ['copy', '--quiet', ...fixture.copy, ...args, `oci:${fixture.layout}:${fixture.tag}`, `docker://${ref}`])
}

/**
 * What a plain-HTTP registry serves for `ref` (host/name:tag), read back after the push, as facts
 * for tests: { ref, digest, mediaType, platforms: [{ os, architecture, variant?, manifestDigest,
 * configDigest, layers: [{ digest, size, diffId, mediaType }] }] }.
 */
async function describeImage(ref) {
  const [, host, name, tag] = ref.match(/^([^/]+)\/(.+):([^:/]+)$/)
  const get = async (kind, reference, accept) => {
    const res = await fetch(`http://${host}/v2/${name}/${kind}/${reference}`, { headers: { accept } })
    if (!res.ok) throw new Error(`GET ${kind}/${reference} of ${host}/${name}: HTTP ${res.status}`)
    const body = Buffer.from(await res.arrayBuffer())
    return { body, json: JSON.parse(body), digest: `sha256:${sha256(body)}`, mediaType: res.headers.get('content-type') }
  }
  const accept = [MEDIA.index, MEDIA.dockerList, MEDIA.manifest, MEDIA.dockerManifest].join(', ')
  const top = await get('manifests', tag, accept)
  const mediaType = top.json.mediaType || top.mediaType
  const isIndex = mediaType === MEDIA.index || mediaType === MEDIA.dockerList
  const entries = isIndex ? top.json.manifests : [{ digest: top.digest }]
  const platforms = await Promise.all(entries.map(async (entry) => {
    const manifest = isIndex ? await get('manifests', entry.digest, accept) : top
    const config = await get('blobs', manifest.json.config.digest, '*/*')
    const platform = entry.platform || { os: config.json.os, architecture: config.json.architecture, variant: config.json.variant }
    if (platform.architecture !== config.json.architecture || platform.os !== config.json.os) {
      throw new Error(`${ref}: the index says ${platform.os}/${platform.architecture} for a ${config.json.os}/${config.json.architecture} config`)
    }
    return {
      os: platform.os,
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      manifestDigest: manifest.digest,
      configDigest: manifest.json.config.digest,
      layers: manifest.json.layers.map((l, i) => ({ digest: l.digest, size: l.size, diffId: config.json.rootfs.diff_ids[i], mediaType: l.mediaType })),
    }
  }))
  return { ref, digest: top.digest, mediaType, platforms }
}

/** Builds every fixture under `workDir`, pushes it to `registry` (host:port, plain HTTP) and describes it. */
async function pushFixtures(workDir, registry, built = buildFixtures(workDir)) {
  const images = {}
  for (const fixture of FIXTURES) images[fixture.name] = `${registry}/${fixture.name}:${fixture.tag}`
  await Promise.all(FIXTURES.map((f) => pushImage(built[f.name], images[f.name])))
  const facts = await Promise.all(FIXTURES.map((f) => describeImage(images[f.name])))
  // A fixture's `expect` (what running it shows) goes beside what the registry serves.
  const described = FIXTURES.map((f, i) => [f.name, f.expect ? { ...facts[i], expect: f.expect } : facts[i]])
  return { images, fixtures: Object.fromEntries(described) }
}

module.exports = { pushFixtures, buildFixtures, pushImage, describeImage, FIXTURES, CACHE }
