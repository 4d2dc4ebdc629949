package admin

import "time"

// ChunkLines lets tests fill whole chunks of a token batch.
const ChunkLines = chunkLines

// SetStreamDeadline shortens how long a streamed body may go without a
// line, until the test ends.
func SetStreamDeadline(t interface{ Cleanup(func()) }, d time.Duration) {
	old := streamDeadline
	streamDeadline = d
	t.Cleanup(func() { streamDeadline = old })
}
