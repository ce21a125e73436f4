// Package fsmode keeps coffer's files private to the user it runs as: its
// data directory is 0700, the files it creates there 0600, and a secret
// (the master key, the root credentials) that group or others could read
// or write is refused, as ssh refuses a private key with loose modes: a
// secret that was open may have been read, which a silent chmod would
// hide.
//
// Modes are a unix notion: on other systems (Windows) the checks pass and
// only the directories are created.
package fsmode
