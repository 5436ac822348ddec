package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/witness"
)

// pledgelog demo is what make run runs: the demo log, witnessed. On first
// use it makes the demo log (init --demo) in the data directory; on every
// use it makes the three witnesses' keys if they are missing, starts three
// pledge-verify witness serve processes on loopback, writes the policy
// naming them with a quorum of two, and serves the log with it, as serve
// --policy does. The witnesses live as long as the demo: they are stopped
// when it stops, and (on Linux) sent SIGTERM by the kernel if it dies.
//
// The witnesses are separate processes of the auditor's binary, each with
// its own key, state and lock, as real witnesses would be; the demo only
// supervises them. Serve itself knows nothing of local witnesses: a real
// log's witnesses are other parties' servers.
//
//	DIR/demo-witnesses/policy     the log's policy, rewritten at every start
//	                              (the witnesses' ports are new each time)
//	DIR/demo-witnesses/wN/key     witness N's Ed25519 cosigning key (0600)
//	DIR/demo-witnesses/wN/policy  the log lines it witnesses: the log's keys
//	DIR/demo-witnesses/wN/state/  its state: the last checkpoint it cosigned

// demoWitnesses is how many witnesses the demo runs, and demoQuorum how
// many of them must cosign a checkpoint.
const demoWitnesses, demoQuorum = 3, 2

// demoFlags are the flags of demo: serve's but --policy, and init's.
type demoFlags struct {
	serveFlags
	origin, seed, pledgeVerify string
}

func parseDemo(args []string, stderr io.Writer) (*demoFlags, error) {
	f := &demoFlags{}
	fl := newFlags("demo", "[--data DIR] [--origin ORIGIN] [--listen ADDR] [serve's flags but --policy]", stderr)
	f.register(fl)
	fl.StringVar(&f.origin, "origin", "localhost/pledgelog", "the demo log's origin, when the data directory is made")
	fl.StringVar(&f.seed, "demo-seed", "", "when the data directory is made: derive the demo's keys from this seed (default: random)")
	fl.StringVar(&f.pledgeVerify, "pledge-verify", "", "the pledge-verify binary that runs the witnesses (default: the one beside pledgelog)")
	if err := parse(fl, args); err != nil {
		return nil, err
	}
	if err := checkOrigin(f.origin); err != nil {
		return nil, usageError{Err: err}
	}
	return f, f.check()
}

// runDemo makes the demo log on first use and serves it with three local
// witnesses until ctx is done.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDemo(args, stderr)
	if err != nil {
		return err
	}
	d := dataDir(f.dir)
	if err := f.initOnce(ctx, d, stdout, stderr); err != nil {
		return err
	}
	bin, err := f.witnessBinary()
	if err != nil {
		return err
	}
	logKeys, err := logVKeys(d)
	if err != nil {
		return err
	}
	ws, err := loadDemoWitnesses(d)
	if err != nil {
		return err
	}
	logger := f.logging.logger(stderr)
	defer stopWitnesses(ws, logger)
	for _, w := range ws {
		if err := w.start(bin, logKeys, stderr, logger); err != nil {
			return err
		}
	}
	if f.policy, err = writeDemoPolicy(d, logKeys, ws); err != nil {
		return err
	}
	return f.run(ctx, stdout, stderr)
}

// initOnce makes the demo log in d if d does not exist or is empty, and
// otherwise refuses a data directory that does not hold a demo log: demo
// must not add local witnesses to a real log.
func (f *demoFlags) initOnce(ctx context.Context, d dataDir, stdout, stderr io.Writer) error {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		args := []string{"--demo", "--data", string(d), "--origin", f.origin}
		args = append(args, f.logging.args()...)
		if f.seed != "" {
			args = append(args, "--demo-seed", f.seed)
		}
		return runInit(ctx, args, stdout, stderr)
	}
	if _, err := d.readOrigin(); err != nil {
		return err
	}
	if _, err := os.Stat(d.demoKeyFile()); err != nil {
		return fmt.Errorf("--data %s: not a demo log (no %s): serve it with pledgelog serve --policy FILE and its own witnesses", d, d.demoKeyFile())
	}
	g, err := genesisKey(ctx, d) // init printed it when it made the log
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, registrarLine(g.ID(), d))
	return nil
}

// witnessBinary returns --pledge-verify, or the pledge-verify beside this
// executable (make build builds both into ./bin).
func (f *demoFlags) witnessBinary() (string, error) {
	if f.pledgeVerify != "" {
		return f.pledgeVerify, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding pledge-verify: %w (give --pledge-verify FILE)", err)
	}
	bin := filepath.Join(filepath.Dir(self), "pledge-verify")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("the witnesses run pledge-verify, which is not beside pledgelog (%w): run make build, or give --pledge-verify FILE", err)
	}
	return bin, nil
}

// logVKeys returns the verifier keys of d's log key and, during a
// rotation, of its new key: the witnesses must accept both.
func logVKeys(d dataDir) ([]string, error) {
	origin, err := d.readOrigin()
	if err != nil {
		return nil, err
	}
	vkey, err := fileVKey(d.keyFile(), origin)
	if err != nil {
		return nil, err
	}
	keys := []string{vkey}
	if _, err := os.Stat(d.newKeyFile()); err == nil {
		next, err := fileVKey(d.newKeyFile(), origin)
		if err != nil {
			return nil, err
		}
		keys = append(keys, next)
	}
	return keys, nil
}

func (d dataDir) demoWitnessDir() string { return d.path("demo-witnesses") }

// demoWitness is one of the demo's witnesses, and its process once
// started.
type demoWitness struct {
	name, dir, vkey string
	url             string // http://127.0.0.1:port, once started
	cmd             *exec.Cmd
	done            chan struct{} // closed when the process has exited
	stopping        atomic.Bool
}

// loadDemoWitnesses returns the demo's witnesses, making the keys that
// are missing: Ed25519 ones, whose cosignatures the web page verifies
// (it cannot verify ML-DSA-44).
func loadDemoWitnesses(d dataDir) ([]*demoWitness, error) {
	var ws []*demoWitness
	for i := 1; i <= demoWitnesses; i++ {
		w := &demoWitness{name: fmt.Sprintf("w%d", i), dir: filepath.Join(d.demoWitnessDir(), fmt.Sprintf("w%d", i))}
		if err := os.MkdirAll(w.dir, 0o700); err != nil {
			return nil, fmt.Errorf("demo witness %s: %w", w.name, err)
		}
		k, err := w.key(fmt.Sprintf("localhost/demo-witness-%d", i))
		if err != nil {
			return nil, fmt.Errorf("demo witness %s: %w", w.name, err)
		}
		w.vkey = k.VerifierKey()
		ws = append(ws, w)
	}
	return ws, nil
}

// key reads w's key, or makes it named name if there is none.
func (w *demoWitness) key(name string) (*witness.Key, error) {
	file := filepath.Join(w.dir, "key")
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := witness.GenerateKey(name, verify.TypeCosignature)
		if err != nil {
			return nil, err
		}
		return k, durable.CreateFile(file, k.Marshal(), 0o600)
	} else if err != nil {
		return nil, err
	}
	k, err := witness.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

// start writes w's policy (the log's keys) and starts its witness serve
// on a free loopback port, returning once it listens.
func (w *demoWitness) start(bin string, logKeys []string, stderr io.Writer, logger *slog.Logger) error {
	policy := filepath.Join(w.dir, "policy")
	text := "# The logs this demo witness witnesses, written by pledgelog demo at every start.\n"
	for _, k := range logKeys {
		text += "log " + k + "\n"
	}
	if err := durable.WriteFile(policy, []byte(text+"quorum none\n"), 0o644); err != nil {
		return fmt.Errorf("demo witness %s: %w", w.name, err)
	}
	// Only the local log submits, once per publish interval per witness.
	w.cmd = exec.Command(bin, "witness", "serve", "--key", filepath.Join(w.dir, "key"), "--policy", policy,
		"--state", filepath.Join(w.dir, "state"), "--listen", "127.0.0.1:0", "--rate", "1000", "--burst", "1000")
	w.cmd.SysProcAttr = witnessProcAttr()
	first := &firstLine{line: make(chan string, 1)}
	w.cmd.Stdout = first
	w.cmd.Stderr = &prefixLines{w: stderr, prefix: "witness " + w.name + ": "}
	if err := w.cmd.Start(); err != nil {
		return fmt.Errorf("starting demo witness %s: %w", w.name, err)
	}
	w.done = make(chan struct{})
	go func() {
		err := w.cmd.Wait()
		if !w.stopping.Load() {
			logger.Error("a demo witness stopped; the log goes on while two of three cosign", "witness", w.name, "err", err)
		}
		close(w.done)
	}()
	select {
	case line := <-first.line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "witnessing at ")
		if !ok {
			return fmt.Errorf("demo witness %s printed %q", w.name, line)
		}
		w.url = strings.TrimSuffix(addr, "/")
		logger.Info("demo witness started", "witness", w.name, "url", w.url, "pid", w.cmd.Process.Pid)
		return nil
	case <-w.done:
		return fmt.Errorf("demo witness %s did not start (its messages are above): %v", w.name, w.cmd.ProcessState)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("demo witness %s did not start within 30s", w.name)
	}
}

// stopWitnesses stops the started witnesses: SIGTERM, then SIGKILL after
// five seconds.
func stopWitnesses(ws []*demoWitness, logger *slog.Logger) {
	for _, w := range ws {
		if w.cmd != nil && w.cmd.Process != nil {
			w.stopping.Store(true)
			w.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, w := range ws {
		if w.done == nil {
			continue
		}
		select {
		case <-w.done:
		case <-time.After(5 * time.Second):
			logger.Warn("a demo witness did not stop on SIGTERM; killing it", "witness", w.name)
			w.cmd.Process.Kill()
			<-w.done
		}
	}
}

// writeDemoPolicy writes the log's policy: its keys, the witnesses at
// their URLs, and a quorum of demoQuorum of them; it returns its path.
func writeDemoPolicy(d dataDir, logKeys []string, ws []*demoWitness) (string, error) {
	var b strings.Builder
	b.WriteString("# The demo's witnesses, written by pledgelog demo at every start: their keys stay, their ports change.\n")
	for _, k := range logKeys {
		fmt.Fprintf(&b, "log %s\n", k)
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		fmt.Fprintf(&b, "witness %s %s %s\n", w.name, w.vkey, w.url)
		names[i] = w.name
	}
	fmt.Fprintf(&b, "group demo-witnesses %d %s\nquorum demo-witnesses\n", demoQuorum, strings.Join(names, " "))
	file := filepath.Join(d.demoWitnessDir(), "policy")
	if err := durable.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("writing the demo's policy: %w", err)
	}
	return file, nil
}

// firstLine is a process's stdout: it sends the first line and discards
// the rest.
type firstLine struct {
	buf  []byte
	sent bool
	line chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	if f.sent {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
		f.line <- string(f.buf[:i])
		f.sent, f.buf = true, nil
	}
	return len(p), nil
}

// prefixLines writes each whole line to w after prefix.
type prefixLines struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixLines) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}
