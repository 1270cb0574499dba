// Package imgstore is the on-disk image store of a host, under DIR/images:
//
//	blobs/sha512/<hex>   each image's uncompressed ACI, named by its digest
//	trees/<image id>/    the image extracted once: manifest and rootfs/, shared read-only
//	                     by every pod (it is an overlayfs lower layer)
//	index.db             bbolt: per image its name, labels, size, import and last-use times
//	                     and the content hash of its tree
//	tmp/                 staging for imports in progress
//
// An import streams the archive into tmp while hashing it, checks the hash the caller
// expects, extracts it into tmp (refusing unsafe entries), and only then moves the blob and
// the tree into place and writes the index entry. The index entry is written last and
// removed first, so the index never names an image whose files are missing; files with no
// index entry (a crash mid-import or mid-removal) are swept by GC. A failed import leaves
// the store exactly as it was.
package imgstore
