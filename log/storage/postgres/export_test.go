package postgres

// PID returns the server process of the lease's connection.
func (l *Lease) PID() uint32 { return l.conn.PgConn().PID() }
