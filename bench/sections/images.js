'use strict'
// Images: push, export and import of the largest test fixture (sb.images.large: busybox + 3 ×
// 32 MiB incompressible gzip layers), this package vs the Go tools, in alternating rounds:
//
// - push to the sandbox's plain registry under a fresh repository each round: client.push() vs
//   `ctr images push --plain-http` (same namespace, the image pulled by this package) vs
//   `skopeo copy docker://REGISTRY/large:latest docker://REGISTRY/<fresh>:latest`. skopeo cannot
//   read containerd's store (its containers-storage: is another store), so its copy is
//   registry-to-registry: it reads from the registry what the others read from the content store.
//   All three may mount blobs from `large` (same registry) instead of uploading them: what each
//   did is recorded (our push progress; the registry's access log for all). So the same is done
//   against the basic-auth registry, which holds none of the large layers.
// - export: client.exportImages() piped into a file vs `ctr images export FILE REF`.
// - import of our archive into a fresh namespace (with unpack, both tools' default):
//   client.importImages(path) vs `ctr images import FILE`.

const fs = require('node:fs')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')
const { run } = require('../lib/procs.js')
const { summary, median } = require('../lib/stats.js')

const NS = 'bench-images'

async function benchImages(ctx) {
  const { sb, client, quick, log } = ctx
  const rounds = quick ? 2 : 4
  const ns = client.withNamespace(NS)
  const work = path.join(sb.dir, 'bench-images')
  fs.mkdirSync(work, { recursive: true })
  const describe = (list) => ({ ...summary(list), runsMs: list })
  const within = (a, b) => median(a.map((x, k) => x / b[k]))
  const ctr = (namespace, ...args) => run('ctr', ['-a', sb.address, '-n', namespace, ...args], { timeout: 120000 })

  log('images: push / export / import of the large fixture')
  const image = await ns.pull(sb.images.large)
  const ref = image.name
  const stat = { layers: sb.fixtures.large?.platforms?.[0]?.layers?.length, totalBytes: await image.size() }
  log(`  ${ref}: ${(stat.totalBytes / 2 ** 20).toFixed(1)} MiB, ${stat.layers} layers, manifest ${image.target.digest}`)

  // --- push -----------------------------------------------------------------------------------
  // (a) the plain registry, which holds `large`: blobs can be mounted from it. (b) the basic-auth
  // registry (user:pass for all three), which has none of the large layers; after each push its
  // blobs are unlinked from the new repository, so no tool can mount them from an earlier round's.
  let repo = 0
  const basic = sb.registries.basic
  const targets = {
    plain: { host: sb.registry, log: path.join(sb.dir, 'registry', 'registry.log') },
    basic: basic && { host: basic.host, log: path.join(sb.dir, 'registry-basic', 'registry.log'), user: basic.username, pass: basic.password },
  }
  const pushOne = async (who, dest, target) => {
    if (who === 'ours') {
      const status = {}
      const r = await ns.push(ref, {
        target,
        ...(dest.user ? { auth: { username: dest.user, password: dest.pass } } : {}),
        onProgress: (p) => {
          if (p.phase === 'done') for (const b of p.blobs) status[b.status] = (status[b.status] || 0) + 1
        },
      })
      if (r.digest !== image.target.digest) throw new Error(`push wrote ${r.digest}`)
      return status
    }
    if (who === 'ctr') {
      // ctr pushes a stored image under its own name: tagged first (untimed, by the caller).
      await ctr(NS, 'images', 'push', '--plain-http', ...(dest.user ? ['--user', `${dest.user}:${dest.pass}`] : []), target)
      return null
    }
    await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false',
      ...(dest.user ? ['--dest-creds', `${dest.user}:${dest.pass}`] : []),
      `docker://${sb.images.large}`, `docker://${target}`], { timeout: 120000 })
    return null
  }
  const facts = sb.fixtures.large.platforms[0]
  const blobDigests = [facts.configDigest, ...facts.layers.map((l) => l.digest)]
  const order3 = [['ours', 'ctr', 'skopeo'], ['skopeo', 'ours', 'ctr'], ['ctr', 'skopeo', 'ours']]
  const push = {}
  for (const [where, dest] of Object.entries(targets)) {
    if (!dest) continue
    const times = { ours: [], ctr: [], skopeo: [] }
    const detail = []
    const pushRounds = where === 'plain' ? rounds : Math.min(rounds, 3)
    for (let i = -1; i < pushRounds; i++) {
      for (const who of order3[(i + 3) % 3]) {
        const target = `${dest.host}/bench-push-${who}-${process.pid}-${repo++}:latest`
        if (who === 'ctr') await ns.tagImage(ref, target)
        const logBefore = fileSize(dest.log)
        const t = performance.now()
        const status = await pushOne(who, dest, target)
        const ms = performance.now() - t
        const access = accessSince(dest.log, logBefore)
        await checkManifest(target, image.target.digest, who, dest)
        if (who === 'ctr') await ns.deleteImage(target)
        // On the basic-auth registry, unlink the pushed blobs from the new repository (untimed), so
        // no later push can mount them from there: every round uploads.
        if (where === 'basic') await unlinkBlobs(target, blobDigests, dest)
        if (i >= 0) {
          times[who].push(ms)
          detail.push({ round: i, who, ms, ourProgress: status, ...access })
        }
        log(`  push ${where} ${who.padEnd(6)} ${(ms / 1000).toFixed(2)} s${i < 0 ? ' (warm-up)' : ''} — ` +
          `${access.mountPosts} mount POSTs, ${access.blobPuts} blob PUTs${status ? `, ours: ${JSON.stringify(status)}` : ''}`)
      }
    }
    const counts = (who, key) => median(detail.filter((d) => d.who === who).map((d) => d[key]))
    push[where] = {
      rounds: pushRounds,
      ours: describe(times.ours), ctr: describe(times.ctr), skopeo: describe(times.skopeo),
      ratio: { oursOverCtr: median(times.ours) / median(times.ctr), oursOverSkopeo: median(times.ours) / median(times.skopeo) },
      withinRounds: { oursOverCtr: within(times.ours, times.ctr), oursOverSkopeo: within(times.ours, times.skopeo) },
      mounts: { ours: counts('ours', 'mountPosts'), ctr: counts('ctr', 'mountPosts'), skopeo: counts('skopeo', 'mountPosts') },
      uploads: { ours: counts('ours', 'blobPuts'), ctr: counts('ctr', 'blobPuts'), skopeo: counts('skopeo', 'blobPuts') },
      detail,
    }
  }

  // --- export ---------------------------------------------------------------------------------
  const archive = path.join(work, 'ours.tar')
  const exporters = {
    ours: async (file) => {
      const stream = await ns.exportImages(ref)
      await pipeline(stream, fs.createWriteStream(file))
    },
    ctr: (file) => ctr(NS, 'images', 'export', file, ref),
  }
  const exp = { ours: [], ctr: [] }
  const archiveBytes = {}
  for (let i = -1; i < rounds; i++) {
    for (const who of i % 2 === 0 ? ['ours', 'ctr'] : ['ctr', 'ours']) {
      const file = path.join(work, `${who}.tar`)
      fs.rmSync(file, { force: true })
      const t = performance.now()
      await exporters[who](file)
      const ms = performance.now() - t
      archiveBytes[who] = fs.statSync(file).size
      if (i >= 0) exp[who].push(ms)
      log(`  export ${who.padEnd(4)} ${(ms / 1000).toFixed(2)} s, ${(archiveBytes[who] / 2 ** 20).toFixed(1)} MiB${i < 0 ? ' (warm-up)' : ''}`)
    }
  }
  fs.rmSync(path.join(work, 'ctr.tar'), { force: true })

  // --- import ---------------------------------------------------------------------------------
  let nsCount = 0
  const importers = {
    ours: async (namespace) => {
      const images = await client.withNamespace(namespace).importImages(archive)
      if (!images.some((im) => im.target.digest === image.target.digest)) throw new Error('import: manifest digest differs')
    },
    ctr: (namespace) => ctr(namespace, 'images', 'import', archive),
  }
  const imp = { ours: [], ctr: [] }
  for (let i = -1; i < rounds; i++) {
    for (const who of i % 2 === 0 ? ['ours', 'ctr'] : ['ctr', 'ours']) {
      const namespace = `bench-import-${who}-${nsCount++}`
      await run('sync', [])
      const t = performance.now()
      await importers[who](namespace)
      const ms = performance.now() - t
      const view = client.withNamespace(namespace)
      const got = await view.getImage(ref)
      if (got.target.digest !== image.target.digest) throw new Error(`${who} import: ${got.target.digest}`)
      if (!(await got.isUnpacked('overlayfs'))) throw new Error(`${who} import did not unpack`)
      if (i >= 0) imp[who].push(ms)
      log(`  import ${who.padEnd(4)} ${(ms / 1000).toFixed(2)} s${i < 0 ? ' (warm-up)' : ''}`)
      // Untimed: nothing of it stays (the next round writes every blob and snapshot again).
      for (const im of await view.listImages()) await view.deleteImage(im.name, { sync: true })
      await view.deleteNamespace(namespace).catch(() => {})
    }
  }
  fs.rmSync(work, { recursive: true, force: true })

  return {
    image: { ref, manifestDigest: image.target.digest, ...stat }, rounds, warmup: 1,
    push,
    export: {
      ours: describe(exp.ours), ctr: describe(exp.ctr), archiveBytes,
      ratio: { oursOverCtr: median(exp.ours) / median(exp.ctr) }, withinRounds: { oursOverCtr: within(exp.ours, exp.ctr) },
    },
    import: {
      ours: describe(imp.ours), ctr: describe(imp.ctr), archive: 'ours',
      ratio: { oursOverCtr: median(imp.ours) / median(imp.ctr) }, withinRounds: { oursOverCtr: within(imp.ours, imp.ctr) },
    },
  }
}

function fileSize(file) {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

/** Cross-repository mount requests and blob upload PUTs in the registry's access log since `from`. */
function accessSince(file, from) {
  let text = ''
  try {
    const fd = fs.openSync(file, 'r')
    const size = fs.fstatSync(fd).size
    const buf = Buffer.alloc(Math.max(0, size - from))
    fs.readSync(fd, buf, 0, buf.length, from)
    fs.closeSync(fd)
    text = buf.toString('utf8')
  } catch {}
  const lines = text.split('\n')
  return {
    mountPosts: lines.filter((l) => /POST \S*\/blobs\/uploads\/\?[^ ]*mount=/.test(l)).length,
    blobPuts: lines.filter((l) => /PUT \S*\/blobs\/uploads\//.test(l)).length,
  }
}

/** DELETE /v2/<repo>/blobs/<digest> for each digest (the registry unlinks them from that repository). */
async function unlinkBlobs(target, digests, dest) {
  const [, host, name] = target.match(/^([^/]+)\/(.+):([^:/]+)$/)
  const authorization = `Basic ${Buffer.from(`${dest.user}:${dest.pass}`).toString('base64')}`
  for (const digest of digests) {
    const res = await fetch(`http://${host}/v2/${name}/blobs/${digest}`, { method: 'DELETE', headers: { authorization } })
    if (res.status !== 202) throw new Error(`DELETE ${name} blob ${digest}: HTTP ${res.status}`)
  }
}

/** The registry serves `target` with the expected manifest digest. */
async function checkManifest(target, digest, who, dest) {
  const [, host, name, tag] = target.match(/^([^/]+)\/(.+):([^:/]+)$/)
  const accept = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ')
  const res = await fetch(`http://${host}/v2/${name}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept, ...(dest.user ? { authorization: `Basic ${Buffer.from(`${dest.user}:${dest.pass}`).toString('base64')}` } : {}) },
  })
  const got = res.headers.get('docker-content-digest')
  if (!res.ok || got !== digest) throw new Error(`${who} push: ${target} serves ${res.status} ${got}, expected ${digest}`)
}

module.exports = { benchImages }
