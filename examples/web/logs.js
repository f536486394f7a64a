'use strict'
// Log files of the tasks the server starts, and following them.
//
// A task started with `container.newTask({ logFile })` has the shim append its stdout and stderr
// to that file, so the log outlives the request (and this server). The files live in a
// directory the server owns: <logDir>/<namespace>/<container id>.log. Both names are checked
// containerd identifiers, so a path is never built from anything else a request carries.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { StringDecoder } = require('node:string_decoder')

const DEFAULT_LOG_DIR = path.join(os.tmpdir(), 'containerd-napi-demo-logs')

/** The log file of container `id` in `namespace` (both already validated identifiers). */
function logPath(logDir, namespace, id) {
  const dir = path.join(logDir, namespace)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  return path.join(dir, `${id}.log`)
}

/** Creates `file` if it is missing, so that it can be watched before the task writes to it. */
function ensureFile(file) {
  fs.closeSync(fs.openSync(file, 'a', 0o600))
}

/**
 * Follows `file` (which must exist): sends what is there (the last `backlog` bytes of it, or from byte `from` when a
 * reconnecting client says where it was), then whatever is appended, until `signal` aborts.
 * `send(text, offset)` gets decoded text and the file offset after it, and may return a promise
 * (backpressure: nothing more is read until it resolves). A truncated file is followed from 0.
 */
function follow(file, { signal, send, from, backlog = 256 * 1024 }) {
  if (signal.aborted) return
  let position = from ?? Math.max(0, fs.statSync(file).size - backlog)
  let decoder = new StringDecoder('utf8')
  let reading = false
  let again = false

  async function read() {
    if (reading) { again = true; return }
    reading = true
    try {
      do {
        again = false
        const { size } = await fs.promises.stat(file)
        if (size < position) { position = 0; decoder = new StringDecoder('utf8') }
        if (size === position) continue
        const stream = fs.createReadStream(file, { start: position, end: size - 1, signal })
        for await (const chunk of stream) {
          position += chunk.length
          const text = decoder.write(chunk)
          if (text) await send(text, position)
        }
      } while (again && !signal.aborted)
    } catch (err) {
      if (!signal.aborted && err.code !== 'ENOENT') console.error(`following ${file}:`, err.message)
    } finally {
      reading = false
    }
  }

  // fs.watch reports appends at once; the timer is a safety net for filesystems where it is lax.
  const watcher = fs.watch(file, { persistent: false }, () => read())
  watcher.on('error', () => {})
  const timer = setInterval(read, 1000)
  signal.addEventListener('abort', () => { watcher.close(); clearInterval(timer) }, { once: true })
  read()
}

module.exports = { DEFAULT_LOG_DIR, logPath, ensureFile, follow }
