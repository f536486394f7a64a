'use strict'
// Image archives (README.md): exportImages' Readable over the native chunk reader.

const { Readable } = require('node:stream')
const { call } = require('./native.js')
const { abortError } = require('./errors.js')

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

module.exports = { exportReadable }
