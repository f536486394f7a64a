const { Client, AlreadyExistsError, NotFoundError } = require('containerd-napi')

const ref = process.env.IMAGE ?? 'docker.io/library/busybox:latest'

async function main() {
  const client = await Client.connect()
  try {
    const image = await client.pull(ref)            // already there: no download, same record
    const config = await image.config()             // the OCI config of this host's platform
    console.log(config.os, config.architecture, config.config.Cmd)   // linux amd64 [ 'sh' ]

    // Tags are image records pointing at the same manifest: no bytes are copied.
    const tag = await client.tagImage(ref, 'example.com/tools/busybox:stable')
    console.log(tag.target.digest === image.target.digest)          // true
    const again = await client.tagImage(ref, 'example.com/tools/busybox:stable').catch((e) => e)
    console.log(again instanceof AlreadyExistsError)                 // true; { force: true } moves it

    console.log((await client.listImages(['name~="example.com/tools/"'])).map((i) => i.name))

    await client.deleteImage('example.com/tools/busybox:stable')    // the tag only; the content stays for `ref`
    const gone = await client.getImage('example.com/tools/busybox:stable').catch((e) => e)
    console.log(gone instanceof NotFoundError)                       // true
    await client.deleteImage(ref, { sync: true })                    // sync: the content is collected before it returns
  } finally {
    await client.close()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
