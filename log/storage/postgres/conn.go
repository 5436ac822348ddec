package postgres

import (
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// A server that stops hard, or a network that fails, can leave a
// connection that neither side has closed: a query on it would wait for
// as long as TCP retransmits (a quarter of an hour), and the server would
// keep the session, and the sequencer's advisory lock, for as long as its
// keepalives allow (two hours by default). tune makes every connection of
// a Storage notice a dead peer within about half a minute, on both sides,
// unless the connection string says otherwise:
//
//   - connecting gives up after connectTimeout (per host of a multi-host
//     connection string), unless connect_timeout is given;
//   - the client's socket sends TCP keepalives after keepAliveIdle of
//     silence and drops the connection after keepAliveCount unanswered
//     ones, and (on Linux) drops it when data sent stays unacknowledged
//     for userTimeout;
//   - the server is asked for the same (tcp_keepalives_* and
//     tcp_user_timeout), so that it ends the session of a client it lost,
//     which releases that session's locks.
//
// No statement_timeout is set: a commit waiting for a synchronous standby
// that is cancelled becomes visible on the primary without the standby
// having it, which is exactly what a synchronous standby is there to
// prevent (see docs/operations.md).
const (
	connectTimeout    = 10 * time.Second
	keepAliveIdle     = 5 * time.Second
	keepAliveCount    = 3
	userTimeout       = 20 * time.Second
	serverUserTimeout = "20000" // ms
)

func tune(c *pgconn.Config) {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = connectTimeout
	}
	d := &net.Dialer{
		Timeout: c.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: keepAliveIdle, Interval: keepAliveIdle, Count: keepAliveCount,
		},
		Control: userTimeoutControl(userTimeout),
	}
	c.DialFunc = d.DialContext
	for k, v := range map[string]string{
		"tcp_keepalives_idle":     "5",
		"tcp_keepalives_interval": "5",
		"tcp_keepalives_count":    "3",
		"tcp_user_timeout":        serverUserTimeout,
	} {
		if _, ok := c.RuntimeParams[k]; !ok {
			c.RuntimeParams[k] = v
		}
	}
}
