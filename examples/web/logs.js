'use strict'
// Log files of the tasks the server starts, and following them.
//
// A task started with `container.newTask({ logFile })` has the shim append its stdout and stderr
// to that file, so the log outlives the request (and this server). The files live in a
// directory the server owns: <logDir>/<namespace>/<container id>.log. Both names are checked
// containerd identifiers, so a path is never built from anything else a request carries.
//
// The shim runs as root and opens that path itself, following symlinks. So the directory must be
// one nobody else can write to: a fixed name in /tmp could be planted first (a symlink there
// would send container output, as root, wherever it points). By default each server makes a new
// one with mkdtemp; a given one is checked with lstat (ours, a real directory, not writable by
// others). It is not removed on close: tasks outlive the server and keep appending.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { StringDecoder } = require('node:string_decoder')

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW } = fs.constants

/** Throws unless `dir` is a directory (not a symlink) of this user that others cannot write to. */
function checkPrivate(dir) {
  const st = fs.lstatSync(dir)
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?): refusing to use it`)
  if (st.uid !== process.getuid()) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user: refusing to use it`)
  if (st.mode & 0o022) throw new Error(`${dir} is writable by others (mode ${(st.mode & 0o777).toString(8)}): refusing to use it`)
  return dir
}

/** `logDir` checked, or a new private directory when it is undefined. */
function privateLogDir(logDir) {
  if (logDir === undefined) return fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-logs-'))
  return checkPrivate(logDir)
}

/** The log file of container `id` in `namespace` (both already validated identifiers). */
function logPath(logDir, namespace, id) {
  const dir = path.join(logDir, namespace)
  try { fs.mkdirSync(dir, { mode: 0o700 }) } catch (err) { if (err.code !== 'EEXIST') throw err }
  checkPrivate(dir)
  return path.join(dir, `${id}.log`)
}

/** Creates `file` if it is missing (never through a symlink), so it can be watched before the task writes. */
function ensureFile(file) {
  fs.closeSync(fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600))
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

module.exports = { privateLogDir, logPath, ensureFile, follow }
