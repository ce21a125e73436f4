// Package servercmd is `coffer server`: its configuration from flags and
// the environment (ParseConfig), the data directory's keys and
// credentials, and serving the API until the context ends (Serve). It also
// sets the process's soft memory limit, which `coffer bench` shares. The
// tests here run the server in-process and as a child process built from
// cmd/coffer (the kill -9, load and several-processes tests).
package servercmd
