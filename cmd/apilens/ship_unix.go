//go:build unix

package main

import (
	"os"
	"syscall"
)

// inode identifies a file across renames and restarts, which
// os.SameFile cannot do once the process that opened it is gone.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
