'use strict'
// Image archives (README.md): exportImages' Readable over the native chunk reader.

const { Readable } = require('node:stream')
const { call, binding } = require('./native.js')
const { abortError, InvalidArgumentError } = require('./errors.js')

/** Bytes per write into the native sink when the source is a Buffer. */
const SLICE = 1 << 20

/** The archive as a byte Readable; `signal` destroys it with a CancelledError. */
function exportReadable(native, signal) {
  let onAbort
  const stream = new Readable({
    // One native chunk per read(): the writer in the core waits while nobody reads.
    read() {
      call('export', undefined, () => native.next()).then(
        (chunk) => { if (!stream.destroyed) stream.push(chunk ?? null) },
        (err) => stream.destroy(err),
      )
    },
    destroy(err, callback) {
      native.close()
      signal?.removeEventListener('abort', onAbort)
      callback(err)
    },
  })
  if (signal) {
    onAbort = () => stream.destroy(abortError('export images', signal))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  }
  stream.once('end', () => signal?.removeEventListener('abort', onAbort))
  return stream
}

/**
 * Runs an import from a path (read by the core), a Buffer or a Readable (written chunk by chunk
 * into a bounded native channel: the archive is never held whole). Resolves with the records' info.
 */
async function importArchive(native, source, options, signal) {
  if (typeof source === 'string') {
    if (source === '') throw new InvalidArgumentError('source must not be an empty path')
    return JSON.parse(await call('import images', signal, (h) => native.importImages(source, undefined, options, h)))
  }
  let chunks
  if (Buffer.isBuffer(source) || source instanceof Uint8Array) {
    const buf = Buffer.from(source.buffer, source.byteOffset, source.byteLength)
    chunks = (function* () { for (let i = 0; i < buf.length; i += SLICE) yield buf.subarray(i, i + SLICE) })()
  } else if (source && typeof source[Symbol.asyncIterator] === 'function' && typeof source.pipe === 'function') {
    chunks = source
  } else {
    throw new InvalidArgumentError('source must be a path, a Buffer or a Readable stream')
  }
  const sink = new binding.NativeImportSink()
  let stopped = false
  let pumpError
  const pump = (async () => {
    try {
      for await (const chunk of chunks) {
        if (stopped) break
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
        if (!(await sink.write(bytes))) break       // the import stopped reading (it failed or ended)
      }
    } catch (err) {
      pumpError = err
    } finally {
      sink.end()
    }
  })()
  try {
    const text = await call('import images', signal, (h) => native.importImages(undefined, sink, options, h))
    return JSON.parse(text)
  } catch (err) {
    // The source's own error explains a truncated archive better than the parser does.
    const early = pumpError
    stopped = true
    if (!early && chunks === source) source.destroy()
    await pump
    if (early && !signal?.aborted) throw early
    throw err
  } finally {
    stopped = true
    sink.end()
  }
}

module.exports = { exportReadable, importArchive }
