package cache

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Arenas and tables are mapped outside the Go heap. Those whose size is a
// whole number of huge pages (arenas from 2 MiB, tables from 1 MiB, which
// rehash rounds up) are transparent huge pages, aligned and advised: a
// lookup lands anywhere in a hundred megabytes, and with 4 KiB pages nearly
// every one misses the TLB, a page walk that a virtual machine makes twice.
const (
	pageSize = 4 << 10
	hugePage = 2 << 20
)

// hugeSize is n rounded up to whole huge pages from half of one on, the
// size to ask allocate for when a little more room is welcome.
func hugeSize(n int) int {
	if n >= hugePage/2 {
		return (n + hugePage - 1) &^ (hugePage - 1)
	}
	return n
}

// allocate returns n zeroed bytes, with capacity n rounded up to whole
// pages, or nil if the system has no memory for them. A multiple of the
// huge page size is in huge pages.
func allocate(n int) []byte {
	size := (n + pageSize - 1) &^ (pageSize - 1)
	if size%hugePage != 0 {
		p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			return nil
		}
		return unsafe.Slice((*byte)(p), size)[:n]
	}
	// Map a huge page more, then unmap the two ends that misalign it.
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size+hugePage), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	skip, tail := trim(uintptr(p))
	if skip > 0 {
		_ = unix.MunmapPtr(p, uintptr(skip))
	}
	_ = unix.MunmapPtr(unsafe.Add(p, skip+size), uintptr(tail))
	b := unsafe.Slice((*byte)(unsafe.Add(p, skip)), size)
	// Advice only: without transparent huge pages, this is 4 KiB pages.
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b[:n]
}

// trim returns the bytes to unmap before and after the aligned part of a
// mapping at p one huge page larger than needed: a huge page in all.
func trim(p uintptr) (head, tail int) {
	head = int((hugePage - p%hugePage) % hugePage)
	return head, hugePage - head
}

// release unmaps what allocate returned.
func release(b []byte) {
	if cap(b) > 0 {
		_ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(cap(b)))
	}
}
