package admin

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"
)

// TestReadChunkBytes: a chunk of long lines ends once it holds chunkBytes,
// well before chunkLines, so that a token batch of long lines holds a few
// MiB at a time; the next chunk goes on at the next line and number.
func TestReadChunkBytes(t *testing.T) {
	const lineLen = 8 << 10 // chunkBytes/lineLen lines fill a chunk
	perChunk := chunkBytes / lineLen
	if perChunk >= chunkLines {
		t.Fatalf("lines of %d bytes fill %d lines of a chunk, not fewer than %d", lineLen, perChunk, chunkLines)
	}
	var body bytes.Buffer
	for i := range perChunk + 3 {
		line := bytes.Repeat([]byte{'a' + byte(i%26)}, lineLen)
		body.Write(line)
		body.WriteByte('\n')
	}
	r := httptest.NewRequest("POST", "/admin/v1/tokens/batch", &body)
	lines := newLineReader(httptest.NewRecorder(), r)
	defer lines.close()

	chunk, numbers, err := readChunk(lines, chunkLines)
	if err != nil || len(chunk) != perChunk || numbers[len(numbers)-1] != perChunk {
		t.Fatalf("first chunk: %d lines, last number %v, error %v; want %d lines", len(chunk), numbers[len(numbers)-1:], err, perChunk)
	}
	chunk, numbers, err = readChunk(lines, chunkLines)
	if err != io.EOF || len(chunk) != 3 || numbers[0] != perChunk+1 || chunk[0][0] != 'a'+byte(perChunk%26) || len(chunk[0]) != lineLen {
		t.Fatalf("second chunk: %d lines, numbers %v, error %v; want 3 from line %d and io.EOF", len(chunk), numbers, err, perChunk+1)
	}
}
