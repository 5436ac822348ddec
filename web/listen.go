package web

import (
	"log/slog"
	"net"
	"sync"
)

// limitedListener is a listener that keeps at most max connections open
// at once, and at most perClient of one client (clientKey of the peer's
// IP). A connection beyond either is closed as soon as it is accepted,
// before anything is read from it, so that idle or slow connections of
// a few clients cannot take every file descriptor, and one client cannot
// take them all from the others.
type limitedListener struct {
	net.Listener
	max, perClient int
	logger         *slog.Logger

	mu       sync.Mutex
	open     int            // guarded by mu
	byClient map[string]int // open connections by client; guarded by mu
}

func newLimitedListener(ln net.Listener, max, perClient int, logger *slog.Logger) *limitedListener {
	return &limitedListener{Listener: ln, max: max, perClient: perClient, logger: logger, byClient: map[string]int{}}
}

// Accept returns the next connection within the limits.
func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := peerKey(c)
		if l.admit(key) {
			return &limitedConn{Conn: c, l: l, key: key}, nil
		}
		l.logger.Debug("connection refused: over the limit", "client", key)
		c.Close()
	}
}

// peerKey is the client key of c's remote address.
func peerKey(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return clientKey(host)
}

func (l *limitedListener) admit(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.max || l.byClient[key] >= l.perClient {
		return false
	}
	l.open++
	l.byClient[key]++
	return true
}

func (l *limitedListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byClient[key]--; l.byClient[key] <= 0 {
		delete(l.byClient, key)
	}
}

// limitedConn is a connection counted by its listener until it is closed.
type limitedConn struct {
	net.Conn
	l    *limitedListener
	key  string
	once sync.Once
}

// CloseWrite half-closes the connection when the underlying one can.
// net/http calls it before closing a connection it answered with an
// error (431, 400): the client then reads the answer to its end instead
// of losing it to the reset that closing with unread input sends.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}
