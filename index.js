'use strict'
// containerd-napi: the public face (API.md) over the generated native binding.

const { Client } = require('./lib/client.js')
const { Image } = require('./lib/image.js')
const { Container } = require('./lib/container.js')
const { Process, Task } = require('./lib/process.js')
const { EventStream } = require('./lib/events.js')
const errors = require('./lib/errors.js')

const { fromNative, abortError, CODES, ...errorClasses } = errors

module.exports = { Client, Image, Container, Task, Process, EventStream, ...errorClasses }
