package cache

import (
	"testing"
	"unsafe"
)

func TestAllocate(t *testing.T) {
	for _, n := range []int{1, pageSize - 1, pageSize, hugePage / 2, hugePage, 3 * hugePage} {
		b := allocate(n)
		if len(b) != n || cap(b) != (n+pageSize-1)&^(pageSize-1) {
			t.Fatalf("allocate(%d): len %d, cap %d", n, len(b), cap(b))
		}
		if n%hugePage == 0 {
			at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			if at%hugePage != 0 {
				t.Errorf("allocate(%d) = %#x: not aligned to a huge page", n, at)
			}
		}
		b = b[:cap(b)]
		for i := range b {
			if b[i] != 0 {
				t.Fatalf("allocate(%d): byte %d is %d", n, i, b[i])
			}
			b[i] = byte(i)
		}
		release(b[:n])
	}
}

func TestHugeSize(t *testing.T) {
	for n, want := range map[int]int{
		1:                  1,
		hugePage/2 - 1:     hugePage/2 - 1,
		hugePage / 2:       hugePage,
		hugePage + 1:       2 * hugePage,
		2 * hugePage:       2 * hugePage,
		5*hugePage/2 + 100: 3 * hugePage,
	} {
		if got := hugeSize(n); got != want {
			t.Errorf("hugeSize(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestTrim(t *testing.T) {
	for _, p := range []uintptr{0, pageSize, hugePage - pageSize, hugePage, 3*hugePage + 2*pageSize} {
		head, tail := trim(p)
		if head < 0 || tail <= 0 || head+tail != hugePage || (p+uintptr(head))%hugePage != 0 {
			t.Errorf("trim(%#x) = %d, %d: want a head to the next huge page and the rest of one as the tail", p, head, tail)
		}
	}
}
