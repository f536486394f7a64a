'use strict'
// containerd-napi: the public face (README.md) over the generated native binding.

const { Client } = require('./lib/client.js')
const errors = require('./lib/errors.js')

const { fromNative, abortError, CODES, httpStatus, ...errorClasses } = errors

module.exports = { Client, httpStatus, ...errorClasses }

// The other classes load when first touched (a process that only connects does not need them).
for (const [name, file] of [['Image', 'image'], ['Container', 'container'], ['Task', 'process'], ['Process', 'process'], ['EventStream', 'events']]) {
  Object.defineProperty(module.exports, name, { enumerable: true, get: () => require(`./lib/${file}.js`)[name] })
}
