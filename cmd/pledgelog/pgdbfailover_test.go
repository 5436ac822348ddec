//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	vclient "github.com/pledgelog/pledgelog/verify/client"
)

// TestDatabaseFailover makes a PostgreSQL primary and a synchronous standby
// (two clusters of the distribution's own binaries on loopback ports, made
// with initdb and pg_basebackup -R, named in the primary's
// synchronous_standby_names), a log on them, and pledgelog serve instances
// whose connection string names both hosts with
// target_session_attrs=read-write. Under write load it stops the primary
// hard (pg_ctl stop -m immediate) and promotes the standby, and wants:
// writes acknowledged again (the gap is printed), the sequencer lease lost
// and taken again on the new primary, every acknowledged entry in the log
// at its index, and every checkpoint seen (served, or answering a write)
// signed and consistent with the last one.
//
// The short form (make test) fails over once with two instances. The long
// one (make failover-db: PLEDGELOG_FAILOVER_DB_ROUNDS=5) runs three
// instances and fails over that many times, the old primary rebuilt as
// the new one's synchronous standby after each.
//
// The clusters run as the postgres OS user when the test runs as root
// (initdb refuses root); the machine's own clusters are not touched.
// Without the binaries or that user the test is skipped, loudly, unless
// CI=true, which makes it fail.
func TestDatabaseFailover(t *testing.T) {
	rounds, instances, before, after := 1, 2, 2*time.Second, time.Second
	if v := os.Getenv("PLEDGELOG_FAILOVER_DB_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PLEDGELOG_FAILOVER_DB_ROUNDS=%q: want a positive number", v)
		}
		rounds, instances, before, after = n, 3, 5*time.Second, 3*time.Second
	}
	pg := findPGTools(t)
	base := pg.tempDir(t)
	ports := freePorts(t, 2)
	nodes := []*pgNode{
		{pg: pg, name: "a", dir: filepath.Join(base, "a"), port: ports[0]},
		{pg: pg, name: "b", dir: filepath.Join(base, "b"), port: ports[1]},
	}
	primary, standby := nodes[0], nodes[1]
	pg.run(t, "initdb", "-D", primary.dir, "-U", "postgres", "--auth=trust", "-N")
	appendFile(t, filepath.Join(primary.dir, "postgresql.conf"), fmt.Sprintf(
		"listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nshared_buffers = 32MB\nmax_connections = 60\n", base))
	appendFile(t, filepath.Join(primary.dir, "postgresql.auto.conf"), fmt.Sprintf("port = %d\n", primary.port))
	primary.start(t)
	standby.follow(t, primary)
	primary.exec(t, "CREATE DATABASE pledgelog")

	dsn := fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d user=postgres dbname=pledgelog sslmode=disable target_session_attrs=read-write connect_timeout=5",
		ports[0], ports[1])
	env := []string{dsnEnv + "=" + dsn}
	const seed = "pg database failover"
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	code, stdout, stderr := pledgelog(t, env, "init", "--storage", "postgres", "--data", string(d),
		"--origin", pgOrigin, "--demo", "--demo-seed", seed)
	if code != 0 {
		t.Fatalf("init --storage postgres on the primary = %d: %s", code, stderr)
	}
	_, vkey, _ := strings.Cut(stdout, "vkey: ")
	vkey = strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0])

	var servers []*server
	for i := range instances {
		di := dataDir(filepath.Join(t.TempDir(), fmt.Sprintf("instance%d", i)))
		if out, err := exec.Command("cp", "-a", string(d), string(di)).CombinedOutput(); err != nil {
			t.Fatalf("copying the data directory: %v: %s", err, out)
		}
		servers = append(servers, startServeEnv(t, di, env, "--ip-rate", "-1", "--signatory-rate", "-1"))
	}
	waitLeader(t, servers)

	demo, err := attest.NewDemo(pgOrigin, []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	a, err := client.New(servers[0].url).Accord(actx, "cybersecurity-tech-accord-2018")
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	alive := make([]bool, len(servers))
	for i := range alive {
		alive[i] = true
	}
	w := &writeLoad{t: t, demo: demo, accord: a, servers: servers, alive: alive, acked: map[uint64][]byte{}}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	halt := sync.OnceFunc(func() { stop(); wg.Wait() })
	t.Cleanup(halt) // before the servers and clusters are killed
	for i, sig := range []string{"microsoft", "cisco", "oracle", "arm"} {
		wg.Go(func() { w.write(ctx, i, sig) })
	}
	wg.Go(func() { w.watchCheckpoints(ctx) })

	var gaps []time.Duration
	for round := 1; round <= rounds; round++ {
		n0 := w.count()
		time.Sleep(before)
		if w.count() == n0 {
			t.Fatalf("round %d: no write acknowledged in %v on the primary (port %d)", round, before, primary.port)
		}
		leases := countIn(servers, "took the sequencer lease")
		lost := countIn(servers, "lost the sequencer lease")
		// Writes sent while pg_ctl stops the primary may still be
		// acknowledged by it: the gap runs from the end of the stop.
		primary.stopImmediate(t)
		w.mu.Lock()
		w.killed = time.Now()
		stopped := w.killed
		w.mu.Unlock()
		standby.promote(t)
		promoted := time.Now()
		deadline := time.Now().Add(60 * time.Second)
		for w.firstAfterKill().IsZero() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		resumed := w.firstAfterKill()
		if resumed.IsZero() {
			halt()
			t.Fatalf("round %d: no write acknowledged within 60 s of stopping the primary (port %d) and promoting the standby (port %d)\n%s",
				round, primary.port, standby.port, tails(servers))
		}
		gaps = append(gaps, resumed.Sub(stopped))
		t.Logf("round %d: primary on port %d stopped (pg_ctl stop -m immediate returned) with %d entries acknowledged; standby on port %d promoted %v later; the first write sent after the stop acknowledged %v after it (%v after the promotion)",
			round, primary.port, w.count(), standby.port, promoted.Sub(stopped).Round(time.Millisecond),
			resumed.Sub(stopped).Round(time.Millisecond), resumed.Sub(promoted).Round(time.Millisecond))
		if got := countIn(servers, "lost the sequencer lease"); got <= lost {
			t.Errorf("round %d: no instance said it lost the sequencer lease when the primary stopped", round)
		}
		if got := countIn(servers, "took the sequencer lease"); got <= leases {
			t.Errorf("round %d: no instance took the sequencer lease again on the new primary", round)
		}
		if round < rounds {
			primary.follow(t, standby) // the old primary, rebuilt as the new one's standby
		}
		primary, standby = standby, primary
	}
	time.Sleep(after)
	halt()
	if len(w.timeouts) > 0 {
		t.Errorf("%d writes not answered in %v (appenders waiting for answers that never come): %q", len(w.timeouts), loadClient.Timeout, w.timeouts)
	}
	t.Logf("database failover: %d rounds, %d instances, %d entries acknowledged; write gaps %v; largest gap between acknowledgements %v",
		rounds, instances, w.count(), roundAll(gaps), w.maxGap().Round(time.Millisecond))

	last := w.lastCheckpoint(t, servers, vkey)
	for _, s := range servers {
		c, err := vclient.New(vclient.Config{URL: s.url})
		if err != nil {
			t.Fatal(err)
		}
		w.checkAcked(t, c, last.Size)
		w.checkConsistent(t, c, vkey, last)
	}
	for _, s := range servers {
		s.stop(t)
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// countIn counts the lines of the servers' stderr that hold s.
func countIn(servers []*server, s string) int {
	n := 0
	for _, srv := range servers {
		n += strings.Count(srv.stderr.String(), s)
	}
	return n
}

// tails returns the last lines of the servers' stderr, for a failure.
func tails(servers []*server) string {
	var b strings.Builder
	for i, s := range servers {
		lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
		fmt.Fprintf(&b, "--- instance %d:\n%s\n", i, strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
	return b.String()
}

// pgTools are the PostgreSQL server binaries, and the OS user that runs
// them.
type pgTools struct {
	bin  string
	cred *syscall.Credential // nil: as ourselves
	uid  int
	gid  int
}

// findPGTools finds the newest /usr/lib/postgresql/*/bin (or the directory
// named by $PLEDGELOG_PG_BIN), and, when the test runs as root, the
// postgres user; else it skips the test, or under CI=true fails it.
func findPGTools(t *testing.T) *pgTools {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: the database failover test must run)", msg)
		}
		t.Skipf("SKIPPING the database failover test: %s; install the PostgreSQL server binaries, or CI=true to make this fatal", msg)
	}
	bin := os.Getenv("PLEDGELOG_PG_BIN")
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.SortFunc(dirs, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				bin = d
				break
			}
		}
	}
	for _, tool := range []string{"initdb", "postgres", "pg_ctl", "pg_basebackup"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); bin == "" || err != nil {
			skip("no PostgreSQL server binaries (%s) in /usr/lib/postgresql/*/bin or $PLEDGELOG_PG_BIN", tool)
		}
	}
	pg := &pgTools{bin: bin, uid: os.Getuid(), gid: os.Getgid()}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skip("running as root, and there is no postgres user to run initdb as: %v", err)
		}
		pg.uid, _ = strconv.Atoi(u.Uid)
		pg.gid, _ = strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(pg.uid), Gid: uint32(pg.gid)}
	}
	return pg
}

// pgVersion is the major version of a /usr/lib/postgresql/N/bin directory.
func pgVersion(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// tempDir makes a directory for the clusters, owned by the user that runs
// them, removed at the end of the test (after the clusters stopped).
func (pg *pgTools) tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pledgelog-dbfailover-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, pg.uid, pg.gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// command returns a command running a PostgreSQL binary as pg's user; the
// process is killed if the test process dies.
func (pg *pgTools) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, tool), args...)
	cmd.Dir = os.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred, Pdeathsig: syscall.SIGKILL}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	return cmd
}

// run runs a PostgreSQL tool to completion, for at most a minute.
func (pg *pgTools) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := pg.command(ctx, tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
}

// pgNode is one of the test's clusters.
type pgNode struct {
	pg   *pgTools
	name string
	dir  string
	port int
	cmd  *exec.Cmd     // the postmaster, while it runs
	done chan struct{} // closed when it exited
}

// start runs the cluster's postmaster, killed at the end of the test if
// still running, and waits until it takes connections.
func (n *pgNode) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(n.dir+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := n.pg.command(context.Background(), "postgres", "-D", n.dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting cluster %s: %v", n.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	n.cmd, n.done = cmd, done
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, n.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return
		}
		cancel()
		select {
		case <-done:
			t.Fatalf("cluster %s exited at start: %s", n.name, n.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s takes no connections after 30 s: %v\n%s", n.name, err, n.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *pgNode) dsn(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable connect_timeout=5", n.port, db)
}

// log returns the end of the cluster's server log.
func (n *pgNode) log() string {
	b, _ := os.ReadFile(n.dir + ".log")
	return string(b[max(0, len(b)-3000):])
}

// exec runs statements on the cluster's postgres database.
func (n *pgNode) exec(t *testing.T, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, n.dsn("postgres"))
	if err != nil {
		t.Fatalf("cluster %s: %v", n.name, err)
	}
	defer conn.Close(context.Background())
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("cluster %s: %s: %v", n.name, sql, err)
		}
	}
}

// follow makes n, stopped, a new synchronous standby of primary: a base
// backup of it (pg_basebackup -R), streaming from it as standby1, which
// the primary then names in synchronous_standby_names; it waits until the
// primary reports the standby in sync.
func (n *pgNode) follow(t *testing.T, primary *pgNode) {
	t.Helper()
	if err := os.RemoveAll(n.dir); err != nil {
		t.Fatal(err)
	}
	n.pg.run(t, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres",
		"-D", n.dir, "-R", "-X", "stream", "-c", "fast")
	// The last setting of a file wins: these override what the backup
	// copied, and -R's primary_conninfo.
	appendFile(t, filepath.Join(n.dir, "postgresql.auto.conf"), fmt.Sprintf(
		"port = %d\nprimary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=standby1'\nsynchronous_standby_names = ''\n",
		n.port, primary.port))
	n.start(t)
	primary.exec(t, "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby1)'", "SELECT pg_reload_conf()")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var state string
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, primary.dsn("postgres"))
		if err == nil {
			err = conn.QueryRow(ctx, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'").Scan(&state)
			conn.Close(ctx)
		}
		cancel()
		if state == "sync" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s is not a synchronous standby of %s after 30 s (state %q, %v)\n%s", n.name, primary.name, state, err, n.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopImmediate stops the cluster hard (pg_ctl stop -m immediate: no
// checkpoint, every session cut) and waits for its postmaster to exit.
func (n *pgNode) stopImmediate(t *testing.T) {
	t.Helper()
	n.pg.run(t, "pg_ctl", "stop", "-D", n.dir, "-m", "immediate", "-w", "-t", "30")
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("cluster %s still running 30 s after pg_ctl stop -m immediate", n.name)
	}
}

// promote makes the standby n a primary (pg_ctl promote), waiting until
// it is.
func (n *pgNode) promote(t *testing.T) {
	t.Helper()
	n.pg.run(t, "pg_ctl", "promote", "-D", n.dir, "-w", "-t", "30")
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
