'use strict'
// Small argument checks for the JS-side option shapes; values the core validates itself
// (names, addresses, numbers' ranges) are left to it so the rules live in one place.

const { InvalidArgumentError } = require('./errors.js')

function describe(value) {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}

function optionalObject(value, name) {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${name} must be an object, got ${describe(value)}`)
  }
  return value
}

function string(value, name) {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be a string, got ${describe(value)}`)
  return value
}

function optionalString(value, name) {
  return value === undefined ? undefined : string(value, name)
}

function optionalNumber(value, name) {
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw new InvalidArgumentError(`${name} must be a number, got ${describe(value)}`)
  return value
}

function optionalBoolean(value, name) {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${name} must be a boolean, got ${describe(value)}`)
  return value
}

/** An array of strings (filters); undefined stays undefined. */
function optionalStrings(value, name) {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${name} must be an array of strings, got ${describe(value)}`)
  value.forEach((v, i) => string(v, `${name}[${i}]`))
  return value
}

/** A Record<string, string> (labels); undefined stays undefined. */
function stringRecord(value, name) {
  if (value === undefined) return undefined
  optionalObject(value, name)
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`${name}[${JSON.stringify(k)}] must be a string, got ${describe(v)}`)
  }
  return value
}

/** env as ['K=V', …] or { K: 'V' }, passed on as the list; undefined stays undefined. */
function envList(value, name) {
  if (value === undefined || Array.isArray(value)) return optionalStrings(value, name)
  return Object.entries(stringRecord(value, name)).map(([k, v]) => `${k}=${v}`)
}

/** PEM given as a string or Buffer, passed on as a Buffer. */
function optionalPem(value, name) {
  if (value === undefined) return undefined
  if (typeof value === 'string') return Buffer.from(value)
  if (Buffer.isBuffer(value)) return value
  throw new InvalidArgumentError(`${name} must be PEM contents as a string or Buffer, got ${describe(value)}`)
}

/**
 * Rejects option names outside `names` (a misspelt `{ timeout: 5 }` would otherwise be ignored
 * without a word). Returns `value`.
 */
function known(value, name, names) {
  for (const key of Object.keys(value)) {
    if (!names.includes(key)) {
      throw new InvalidArgumentError(`${name}.${key} is not a known option; known: ${names.join(', ')}`)
    }
  }
  return value
}

/** Options that take only `signal`. */
function signalOnly(options, name = 'options') {
  return known(optionalObject(options, name), name, ['signal'])
}

module.exports = {
  known, signalOnly,
  optionalObject, string, optionalString, optionalNumber, optionalBoolean, optionalStrings,
  stringRecord, envList, optionalPem,
}
