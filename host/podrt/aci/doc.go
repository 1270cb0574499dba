// Package aci reads and writes appc image archives (ACIs) on a real file system: Build
// makes an ACI from a directory, Extract unpacks one into a fresh directory, refusing
// anything that could reach outside it, and TreeHash fingerprints an extracted tree so a
// store can tell later that nobody changed it.
//
// Extraction never follows a symlink: every entry's parent directories are checked with
// Lstat before the entry is created, so a tar that plants "rootfs/a -> /etc" and then
// writes "rootfs/a/passwd" is refused instead of writing the host's /etc. Paths with "..",
// links that climb out of the root, device nodes and duplicate entries are refused too.
package aci
