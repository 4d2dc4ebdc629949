package main

import "errors"

// errInUse is wrapped by lockSQLite's error when another serve holds the
// database.
var errInUse = errors.New("in use")
