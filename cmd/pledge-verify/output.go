package main

import (
	"fmt"
	"io"
	"time"

	"golang.org/x/term"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

// progress reports long work on stderr, only when it is a terminal, at
// most a few times a second.
type progress struct {
	w    io.Writer
	what string
	last time.Time
}

func newProgress(stderr io.Writer, what string) *progress {
	if f, ok := cli.File(stderr); !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: stderr, what: what}
}

// update shows done of total; a nil progress shows nothing.
func (p *progress) update(done, total uint64) {
	if p == nil || done < total && time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\r%s: %d/%d entries (%.1f%%)", p.what, done, total, pct)
	if done >= total {
		fmt.Fprintln(p.w)
	}
}
