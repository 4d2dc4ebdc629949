package api

import "net/http"

// NewMuxOnlyServer is NewServer routing every request through the mux.
func NewMuxOnlyServer(cfg Config) http.Handler { return newServer(cfg, false) }
