// Package bigobj owns the rule that bounds how many large objects one
// data-plane job streams at once.
//
// A small object costs a backup or restore worker a few kilobytes; a large
// one costs tens of megabytes however it is streamed: the vault cuts each
// chunk of up to 8 MiB in a buffer of its own and stores up to two more in
// the background, each copied once more by kopia's writer and encrypted
// into a pack (about 50 MiB per object written); reading one back holds a chunk's packed, decrypted and
// decompressed copies (about 24 MiB), and the multipart upload of a
// restore buffers two 8 MiB parts. With 16 workers on a bucket of large
// objects that would be a gigabyte, so at most Slots of them stream at
// once per job while the other workers go on with small objects.
package bigobj
