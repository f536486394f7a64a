const { Client } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'   // 'busybox' works too

async function main() {
  const client = await Client.connect()
  try {
    const image = await client.pull(ref, {
      signal: AbortSignal.timeout(120_000),
      onProgress: (p) => console.log(p.phase, `${p.downloadedBytes}/${p.totalBytes}`,
                                     p.layers.map((l) => l.status).join(' ')),
    })
    console.log(image.name, image.target)       // 'docker.io/library/busybox:latest' { mediaType, digest: 'sha256:…', size }

    const same = await client.getImage(ref)     // normalised names work too
    const config = await same.config()          // the OCI config: { architecture, os, config: { Env, Cmd, … }, rootfs }
    console.log(config.os, config.architecture, config.config.Cmd)
    console.log(await same.size(), 'bytes;', 'unpacked:', await same.isUnpacked())   // default snapshotter 'overlayfs'
    console.log((await client.listImages(['labels.team==core'])).length)            // containerd filters

    await client.deleteImage(image.target.digest, { sync: true })   // by name, or by digest if one image has it
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
