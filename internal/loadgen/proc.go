package loadgen

// The soak and the witnessed bench run the log as a real `pledgelog
// serve` process (and witnesses as real `pledge-verify witness serve`
// processes), so that what they measure — the server's RSS, cosigning
// over HTTP — is what an operator runs. This file starts and stops them.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// benchProc is a child process that printed the URL it serves at.
type benchProc struct {
	name   string
	cmd    *exec.Cmd
	url    string // without a trailing slash
	vkey   string // the "vkey: " line it printed, if any
	logTo  string // the file its stderr goes to
	exited chan struct{}
}

// startProc starts bin with args, its stderr to logTo, and waits up to
// 30 s for it to print a line with " at http://", the URL it serves at.
func startProc(ctx context.Context, name, bin, logTo string, args ...string) (*benchProc, error) {
	errf, err := os.Create(logTo)
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	p := &benchProc{name: name, cmd: exec.CommandContext(ctx, bin, args...), logTo: logTo, exited: make(chan struct{})}
	p.cmd.Stderr = errf
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGTERM) }
	p.cmd.WaitDelay = 15 * time.Second
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	found := make(chan error, 1)
	go p.readStdout(out, found)
	go func() { p.cmd.Wait(); close(p.exited) }()
	select {
	case err = <-found:
	case <-time.After(30 * time.Second):
		err = errors.New("no URL printed in 30 s")
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("%s %s: %w; its log: %s", name, strings.Join(args, " "), err, tail(logTo))
	}
	return p, nil
}

// readStdout reads the child's stdout for its URL and vkey, then drains it.
func (p *benchProc) readStdout(out io.Reader, found chan<- error) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if _, url, ok := strings.Cut(line, " at http://"); ok && p.url == "" {
			p.url = "http://" + strings.TrimSuffix(url, "/")
		}
		if v, ok := strings.CutPrefix(line, "vkey: "); ok {
			p.vkey = v
		}
		if p.url != "" && p.vkey != "" {
			found <- nil
			io.Copy(io.Discard, out)
			return
		}
	}
	found <- errors.New("exited without printing its URL and vkey")
}

// pid is the child's process id.
func (p *benchProc) pid() int { return p.cmd.Process.Pid }

// stop asks the child to stop (SIGTERM) and waits for it, killing it
// after 15 s.
func (p *benchProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail returns the last lines of the file name, for an error message.
func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// benchServeArgs are the arguments of the serve process under load: the
// data directory dir, a loopback port, only errors logged, every rate
// limit off and connection caps the load generator stays under.
func benchServeArgs(dir string, publish time.Duration, extra ...string) []string {
	return append([]string{"serve", "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "error",
		"--publish-interval", publish.String(), "--ip-rate", "-1", "--signatory-rate", "-1", "--read-rate", "-1",
		"--max-conns", "16384", "--max-conns-per-client", "16384"}, extra...)
}

// startBenchLog creates a demo log in dir (which must not exist) and
// serves it with pledgelog serve.
func startBenchLog(ctx context.Context, cfg *Config, dir string, stderr io.Writer, extra ...string) (*demoLog, *benchProc, error) {
	d, err := initLog(ctx, cfg, dir, stderr)
	if err != nil {
		return nil, nil, err
	}
	p, err := serveBenchLog(ctx, cfg, d, extra...)
	return d, p, err
}

// serveBenchLog serves the log d with pledgelog serve (cfg.Serve), its
// stderr to d.dir.log.
func serveBenchLog(ctx context.Context, cfg *Config, d *demoLog, extra ...string) (*benchProc, error) {
	return startProc(ctx, "pledgelog serve", cfg.Serve, d.dir+".log", benchServeArgs(d.dir, cfg.Publish, extra...)...)
}

// startWitness makes a key for witness i in dir and serves it with
// pledge-verify witness serve, witnessing the log with key logVKey.
func startWitness(ctx context.Context, bin, dir string, i int, logVKey string) (*benchProc, error) {
	key, pol := filepath.Join(dir, fmt.Sprintf("w%d.key", i)), filepath.Join(dir, fmt.Sprintf("w%d.policy", i))
	if out, err := exec.CommandContext(ctx, bin, "witness", "keygen", "--name", fmt.Sprintf("witness.bench/w%d", i), "--out", key).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pledge-verify witness keygen: %v: %s", err, out)
	}
	if err := os.WriteFile(pol, []byte("log "+logVKey+"\nquorum none\n"), 0o644); err != nil {
		return nil, err
	}
	return startProc(ctx, fmt.Sprintf("witness w%d", i), bin, filepath.Join(dir, fmt.Sprintf("w%d.log", i)),
		"witness", "serve", "--key", key, "--policy", pol, "--state", filepath.Join(dir, fmt.Sprintf("w%d.state", i)),
		"--listen", "127.0.0.1:0", "--rate", "100000", "--burst", "100000")
}
