'use strict'
// The public Process and Task (API.md). `Task extends Process` here, in JS, because napi-rs
// classes cannot inherit; both are handles over the native client plus (container id, exec id).

const { call } = require('./native.js')
const check = require('./check.js')
const { InvalidArgumentError, NotFoundError } = require('./errors.js')

const exitStatus = (e) => ({ exitCode: e.exitCode, exitedAt: new Date(e.exitedAt) })

/** A signal name ('SIGTERM', 'term', 'SIGRTMIN+1') or number, as the native layer takes it. */
function signalText(signal, fallback) {
  if (signal === undefined) return fallback
  if (typeof signal === 'number' && Number.isInteger(signal)) return String(signal)
  if (typeof signal === 'string' && signal.length > 0) return signal
  throw new InvalidArgumentError(`signal must be a name like 'SIGTERM' or a number, got ${JSON.stringify(signal)}`)
}

class Process {
  #native
  #containerId
  #execId

  /** @internal */
  constructor(native, containerId, execId, pid) {
    this.#native = native
    this.#containerId = containerId
    this.#execId = execId
    this.id = execId || containerId
    this.pid = pid
    this.stdin = null
    this.stdout = null
    this.stderr = null
  }

  /** @internal */
  get _native() { return this.#native }
  /** @internal */
  get _containerId() { return this.#containerId }

  async start(options) {
    const { signal } = check.optionalObject(options, 'options')
    this.pid = await call('start', signal, (h) => this.#native.startProcess(this.#containerId, this.#execId, h))
  }

  /** Resolves with the exit status whenever it is called, before or after the exit. */
  async wait(options) {
    const { signal } = check.optionalObject(options, 'options')
    return exitStatus(await call('wait', signal, (h) => this.#native.waitProcess(this.#containerId, this.#execId, h)))
  }

  async kill(signal, options) {
    const o = check.optionalObject(options, 'options')
    const all = check.optionalBoolean(o.all, 'options.all') ?? false
    const text = signalText(signal, 'SIGTERM')
    await call('kill', o.signal, (h) => this.#native.killProcess(this.#containerId, this.#execId, text, all, h))
  }

  async resize(cols, rows, options) {
    for (const [v, n] of [[cols, 'cols'], [rows, 'rows']]) {
      if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw new InvalidArgumentError(`${n} must be an integer from 1 to 65535`)
    }
    const { signal } = check.optionalObject(options, 'options')
    await call('resize', signal, (h) => this.#native.resizePty(this.#containerId, this.#execId, cols, rows, h))
  }

  async closeStdin(options) {
    const { signal } = check.optionalObject(options, 'options')
    await call('close stdin', signal, (h) => this.#native.closeStdin(this.#containerId, this.#execId, h))
  }

  async delete(options) {
    const { signal } = check.optionalObject(options, 'options')
    return exitStatus(await call('delete', signal, (h) => this.#native.deleteTask(this.#containerId, h)))
  }
}

class Task extends Process {
  /** @internal */
  constructor(native, containerId, pid) {
    super(native, containerId, '', pid)
  }

  async status(options) {
    const { signal } = check.optionalObject(options, 'options')
    const s = await call('status', signal, (h) => this._native.taskState(this._containerId, '', h))
    return s.exitCode === undefined || s.exitCode === null ? { status: s.status } : { status: s.status, exitCode: s.exitCode }
  }

  async pause(options) {
    const { signal } = check.optionalObject(options, 'options')
    await call('pause', signal, (h) => this._native.pauseTask(this._containerId, h))
  }

  async resume(options) {
    const { signal } = check.optionalObject(options, 'options')
    await call('resume', signal, (h) => this._native.resumeTask(this._containerId, h))
  }

  pids(options) {
    const { signal } = check.optionalObject(options, 'options')
    return call('pids', signal, (h) => this._native.taskPids(this._containerId, h))
  }

  async metrics(options) {
    const { signal } = check.optionalObject(options, 'options')
    const m = await call('metrics', signal, (h) => this._native.taskMetrics(this._containerId, h))
    const out = { raw: JSON.parse(m.raw) }
    for (const key of ['memoryBytes', 'cpuUsageNanos', 'pids']) if (m[key] != null) out[key] = m[key]
    return out
  }

  /** SIGKILL if running, wait, delete; a task that is already gone is fine. */
  async [Symbol.asyncDispose]() {
    let state
    try {
      state = await this.status()
    } catch (err) {
      if (err instanceof NotFoundError) return
      throw err
    }
    if (state.status !== 'stopped') {
      if (state.status === 'paused' || state.status === 'pausing') await this.resume().catch(() => {})
      await this.kill('SIGKILL', { all: true }).catch((err) => { if (!(err instanceof NotFoundError)) throw err })
      await this.wait()
    }
    await this.delete()
  }
}

module.exports = { Process, Task, exitStatus }
