package sqlite

// What a cache in front of the store needs (package cache): to answer
// as the store would while the database is unavailable, and to forget what
// it holds when the store reopens on what may be another database. It
// fills itself at start from EachCustomer (list.go).

// Unavailable returns the error every call answers while the database is
// unavailable, or nil. It costs one atomic load.
func (db *DB) Unavailable() error { return db.unavailable() }

// Opening identifies the opening of the database the store is on: it
// changes when the store reopens the database after it went away, and
// what was read before may no longer be in it.
func (db *DB) Opening() any { return db.opened.Load() }
