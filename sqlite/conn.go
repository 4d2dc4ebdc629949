package sqlite

import (
	"context"
	"database/sql/driver"

	sqlitedriver "modernc.org/sqlite"
)

// connector opens the pools' connections, and refuses to while the store is
// unavailable: a connection opened then could find no file (SQLITE_CANTOPEN,
// as the DSN says mode=rw), or another file than the one the rest of the
// pool has open.
type connector struct {
	db    *DB
	base  driver.Connector
	write bool // the write pool: check the files after every commit
}

func newConnector(db *DB, dsn string, write bool) (*connector, error) {
	base, err := sqlitedriver.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &connector{db: db, base: base, write: write}, nil
}

// Connect opens a connection if the files at the path are still those the
// store opened.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := c.db.unavailable(); err != nil {
		return nil, err
	}
	if err := c.db.verify(); err != nil {
		return nil, err
	}
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if c.write {
		// A connection opened after the file became read-only for the
		// process would fail every write for as long as the pool kept
		// it, even once the file is writable again: keep none.
		if err := checkWritable(ctx, dc.(driver.ExecerContext)); err != nil {
			dc.Close()
			return nil, err
		}
	}
	return &conn{Conn: dc, db: c.db, write: c.write}, nil
}

// Driver returns the sqlite driver.
func (c *connector) Driver() driver.Driver { return c.base.Driver() }

// conn is a driver connection that does no work while the store is
// unavailable and, on the write pool, checks after every commit that the
// file it committed to is still the one at the path: otherwise the write
// went where nobody will read it, and is reported as failed.
//
// It forwards every optional interface the driver's connections implement,
// so that database/sql uses them as it would without the wrapper.
type conn struct {
	driver.Conn
	db    *DB
	write bool
	inTx  bool // a transaction is open: its Commit checks, not each statement
}

// The driver's connections implement all of these.
type driverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

var (
	_ driverConn   = (*conn)(nil)
	_ driver.Tx    = (*tx)(nil)
	_ driver.Stmt  = (*stmt)(nil)
	_ driverStmtCx = (*stmt)(nil)
)

// Unwrap returns the driver's connection, as sqlite.Limit expects of a wrapper.
func (c *conn) Unwrap() driver.Conn { return c.Conn }

func (c *conn) base() driverConn { return c.Conn.(driverConn) }

// IsValid discards a connection put back into the pool while the store is
// unavailable.
func (c *conn) IsValid() bool { return c.db.unavailable() == nil && c.base().IsValid() }

// ResetSession discards a pooled connection taken out while the store is
// unavailable: database/sql then asks the connector, which refuses.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.db.unavailable() != nil {
		return driver.ErrBadConn
	}
	return c.base().ResetSession(ctx)
}

func (c *conn) Ping(ctx context.Context) error {
	if err := c.db.unavailable(); err != nil {
		return err
	}
	return c.base().Ping(ctx)
}

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.db.unavailable(); err != nil {
		return nil, err
	}
	t, err := c.base().BeginTx(ctx, opts)
	if err != nil || !c.write {
		return t, err
	}
	c.inTx = true
	return &tx{Tx: t, conn: c}, nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.db.unavailable(); err != nil {
		return nil, err
	}
	s, err := c.base().PrepareContext(ctx, query)
	if err != nil || !c.write {
		return s, err
	}
	return &stmt{Stmt: s, conn: c}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.db.unavailable(); err != nil {
		return nil, err
	}
	res, err := c.base().ExecContext(ctx, query, args)
	return c.afterWrite(res, err)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.db.unavailable(); err != nil {
		return nil, err
	}
	return c.base().QueryContext(ctx, query, args)
}

// afterWrite checks the files after a statement that committed on its own.
func (c *conn) afterWrite(res driver.Result, err error) (driver.Result, error) {
	if err != nil || !c.write || c.inTx {
		return res, err
	}
	if err := c.db.verify(); err != nil {
		return nil, err
	}
	return res, nil
}

// tx checks the files after its commit, and commits nothing while the store
// is unavailable.
type tx struct {
	driver.Tx
	conn *conn
}

func (t *tx) Commit() error {
	t.conn.inTx = false
	if err := t.conn.db.unavailable(); err != nil {
		_ = t.Tx.Rollback()
		return err
	}
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	return t.conn.db.verify()
}

func (t *tx) Rollback() error {
	t.conn.inTx = false
	return t.Tx.Rollback()
}

// driverStmtCx is what the driver's statements implement beyond driver.Stmt.
type driverStmtCx interface {
	driver.StmtExecContext
	driver.StmtQueryContext
}

// stmt is a statement prepared on the write pool: an exec outside a
// transaction is checked like conn.ExecContext.
type stmt struct {
	driver.Stmt
	conn *conn
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.conn.db.unavailable(); err != nil {
		return nil, err
	}
	res, err := s.Stmt.(driverStmtCx).ExecContext(ctx, args)
	return s.conn.afterWrite(res, err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.conn.db.unavailable(); err != nil {
		return nil, err
	}
	return s.Stmt.(driverStmtCx).QueryContext(ctx, args)
}
