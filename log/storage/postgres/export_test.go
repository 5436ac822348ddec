package postgres

// PID returns the server process of the lease's connection.
func (l *Lease) PID() uint32 { return l.conn.PgConn().PID() }

// LeasePID returns the server process of the lease that s.Lead took last.
func LeasePID(s *Storage) uint32 {
	if l := s.fence.Load(); l != nil {
		return l.pid
	}
	return 0
}
