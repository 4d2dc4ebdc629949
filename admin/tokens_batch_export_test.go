package admin

// ChunkLines lets tests fill whole chunks of a token batch.
const ChunkLines = chunkLines
