// Package chunking finds the content-defined chunk boundaries of object
// data, byte for byte the ones kopia's DYNAMIC-*-BUZHASH splitters find
// (so vaults keep their format and deduplicate across versions of coffer),
// in a loop the compiler keeps in registers: kopia's splitter rolls each
// byte through a method with a circular window and was about half the CPU
// of a large backup (docs/performance.md).
package chunking
