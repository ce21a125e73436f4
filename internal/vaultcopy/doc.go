// Package vaultcopy copies one recovery point of a vault into another
// vault as a new recovery point (the data plane of copy jobs). The
// source's record stream is streamed record by record; each version's
// data is read from the source vault and written into the destination
// (so re-encrypted under the destination's keys), unless the destination's
// newest recovery point of the same resource already holds that version:
// then the copy references its data object and reads nothing. Everything
// is written in one write session of the destination, committed at the
// end: a crash or an error leaves nothing visible.
package vaultcopy
