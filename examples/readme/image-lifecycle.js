const { Client, AlreadyExistsError } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'
const registry = process.env.REGISTRY ?? 'localhost:5000'            // where to push (plain HTTP on loopback)

async function main() {
  const client = await Client.connect()
  try {
    await client.pull(ref, { unpack: false })
    const target = `${registry}/team/app:1`
    const tagged = await client.tagImage(ref, target, { force: true })   // without force: AlreadyExistsError if taken
    console.log(tagged.name, tagged.target.digest)

    const pushed = await client.push(target, {
      // auth: { username, password } or { token }; else the docker config; tls: { ca } for a private CA
      onProgress: (p) => console.log(p.phase, `${p.uploadedBytes}/${p.totalBytes}`, p.blobs.map((b) => b.status).join(' ')),
      signal: AbortSignal.timeout(120_000),
    })
    console.log(pushed)                          // { digest: 'sha256:…' (the stored manifest's), size }

    await client.tagImage(ref, target).catch((err) => {
      if (!(err instanceof AlreadyExistsError)) throw err
    })
    await client.deleteImage(target)
    await client.deleteImage(ref)
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
