//go:build unix

package conntimeout

import (
	"errors"
	"net"
	"syscall"
)

// hungUp reports whether the client of nc has closed its end: a peek at
// the socket, which neither waits nor takes a byte a pipelined request may
// have sent. It goes through Control, not Read, so that a handler blocked
// reading the request's body does not hold the sweeper up.
func hungUp(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true // closed already
	}
	gone := false
	err = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
	})
	return gone || err != nil
}
