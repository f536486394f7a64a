#!/usr/bin/env node
'use strict'
// `npm run demo`: the web UI and REST API (examples/koa-api) on a containerd. Uses
// $CONTAINERD_ADDRESS when set; otherwise it starts the project's private containerd and a
// registry with sample images (scripts/sandbox.js) and removes them again on Ctrl-C.
// $PORT (default 8080) and $HOST (default 127.0.0.1) choose where the UI listens.
//
//   node examples/demo.js [--allow-mount DIR]… [--allow-host]
//
// The UI needs the token of this start: open the address it prints (…/?token=…). Containers get
// nothing of the host unless allowed: bind mounts only from --allow-mount directories, privileged
// mode, the host's network and added capabilities only with --allow-host (examples/web/policy.js).

const fs = require('node:fs')
const path = require('node:path')
const { createServer } = require('./koa-api/server.js')
const { serverOptions } = require('./web/http.js')

async function main() {
  const options = serverOptions() // before anything starts: a bad argument changes nothing
  let sandbox = null
  let address = process.env.CONTAINERD_ADDRESS
  if (!address) {
    console.log('starting a private containerd and a registry with sample images (scripts/sandbox.js) ...')
    sandbox = await require('../scripts/sandbox.js').start({ name: 'demo' })
    address = sandbox.address
  }
  let server
  const stop = async () => {
    console.log('\nstopping ...')
    await server?.close().catch(() => {})
    if (sandbox) await require('../scripts/sandbox.js').stop(sandbox)
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    // The task logs live in the sandbox's private directory and go with it.
    const logDir = sandbox ? path.join(sandbox.dir, 'logs') : undefined
    if (logDir) fs.mkdirSync(logDir, { mode: 0o700 })
    server = await createServer({
      ...options,
      logDir,
      address,
      registry: sandbox?.registry,
      images: sandbox ? Object.values(sandbox.images) : [],
      port: Number(process.env.PORT || 8080),
      host: process.env.HOST || '127.0.0.1',
    })
  } catch (err) {
    if (sandbox) await require('../scripts/sandbox.js').stop(sandbox)
    throw err
  }
  console.log(`\ncontainerd:  ${address}`)
  if (sandbox) {
    console.log('sample images (pull them from the UI):')
    for (const [name, ref] of Object.entries(sandbox.images)) console.log(`  ${name.padEnd(11)} ${ref}`)
    const { basic } = sandbox.registries
    console.log(`  ${'private'.padEnd(11)} ${basic.ref}  (credentials ${basic.username} / ${basic.password})`)
  }
  const allowed = [
    options.allowMounts.length > 0 ? `bind mounts from ${options.allowMounts.join(', ')}` : 'no bind mounts (--allow-mount DIR)',
    options.allowHost ? "privileged mode, the host's network, added capabilities" : 'nothing else of the host (--allow-host)',
  ]
  console.log(`\ncontainers may get: ${allowed.join('; ')}`)
  console.log(`\nweb UI:      ${server.loginUrl}\n             (the token is this start's password: whoever has it is root here)`)
  console.log(`\nCtrl-C stops it${sandbox ? ' and removes the private containerd' : ''}.`)
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
