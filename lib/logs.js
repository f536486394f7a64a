'use strict'
// Container logs (README, "Logs that outlive the client"): where the package's logger binary is, the `log` option's
// native shape, and LogStream, the async iterable Container.logs() returns.

const fs = require('node:fs')
const path = require('node:path')
const { PullStream } = require('./pull-stream.js')
const check = require('./check.js')
const { InvalidArgumentError } = require('./errors.js')

const LOGGER = 'containerd-napi-logger'

/**
 * The logger shipped with the package: next to the .node file (this checkout's build, or the
 * published package), else in the platform package. The core copies it to a stable root-owned
 * path on first use, so moving node_modules later does not matter.
 */
function loggerSource() {
  const candidates = [path.join(__dirname, '..', LOGGER)]
  try {
    candidates.push(path.join(path.dirname(require.resolve('containerd-napi-linux-x64-gnu/package.json')), LOGGER))
  } catch { /* not installed */ }
  return candidates.find((f) => fs.existsSync(f)) ?? candidates[0]
}

/** `log: true | { maxSizeBytes, maxFiles }` → the native shape (values are checked in Rust). */
function logOption(log) {
  if (log === undefined || log === false) return undefined
  if (log === true) return { logger: loggerSource() }
  const o = check.known(check.optionalObject(log, 'options.log'), 'options.log', ['maxSizeBytes', 'maxFiles'])
  return {
    maxSizeBytes: check.optionalNumber(o.maxSizeBytes, 'options.log.maxSizeBytes'),
    maxFiles: check.optionalNumber(o.maxFiles, 'options.log.maxFiles'),
    logger: loggerSource(),
  }
}

function time(value, name) {
  if (value === undefined) return undefined
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : NaN
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${name} must be a Date or milliseconds since the epoch`)
  return ms
}

/** An async iterable of { time: Date, stream, line } (and `dropped` on a logger's drop notice). */
class LogStream extends PullStream {
  #buffer = []

  /** @internal `open(handle)` resolves with the NativeLogStream; it runs on the first next(). */
  constructor(open, signal) {
    super('logs', open, signal)
  }

  async next() {
    while (this.#buffer.length === 0) {
      const batch = await this.pull() // the native side hands over records in batches
      if (batch == null) return { done: true, value: undefined }
      this.#buffer = batch
    }
    const r = this.#buffer.shift()
    const record = { time: new Date(r.time), stream: r.stream, line: r.line }
    if (r.dropped != null) record.dropped = r.dropped
    return { done: false, value: record }
  }

  close() {
    this.#buffer = []
    super.close()
  }
}

/** Container.logs(): checks the options now; the container is looked up on the first next(). */
function openLogs(native, id, options) {
  const o = check.known(check.optionalObject(options, 'options'), 'options', ['follow', 'tail', 'since', 'until', 'signal'])
  const follow = check.optionalBoolean(o.follow, 'options.follow')
  const tail = check.optionalNumber(o.tail, 'options.tail')
  const since = time(o.since, 'options.since')
  const until = time(o.until, 'options.until')
  return new LogStream((h) => native.openLogs(id, { follow, tail, since, until }, h), o.signal)
}

module.exports = { LogStream, logOption, openLogs, loggerSource }
