package postgres_test

import (
	"context"
	"testing"

	"github.com/pledgelog/pledgelog/log/storage/postgres"
)

// TestKeepalives wants the server asked to drop a lost client within
// seconds (and so its session's advisory lock, the sequencer lease), unless
// the connection string sets it otherwise.
func TestKeepalives(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"", "5"},
		{"&tcp_keepalives_idle=7", "7"},
	} {
		st, err := postgres.Open(context.Background(), dsn(t)+tc.extra, postgres.Options{Schema: newSchema(t)})
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"tcp_keepalives_idle": tc.want, "tcp_keepalives_count": "3", "tcp_user_timeout": "20000"} {
			if got, err := postgres.Setting(st, name); err != nil || got != want {
				t.Errorf("with %q: %s = %q, %v; want %q", tc.extra, name, got, err, want)
			}
		}
		st.Close()
	}
}
