package web

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/semaphore"
)

// bodyBuffer bounds the memory that the write routes' bodies take at
// once, across all clients: each request takes its share before it reads
// its body, and gives it back when it is done. The share is parseFactor
// times its Content-Length (or the route's maximum when it has none), as
// a body is held about that many times while it is read and parsed
// (json.Decoder's buffer, the raw envelopes). A request that cannot have
// its share within bufferWait is answered 503 busy.
type bodyBuffer struct {
	max int64
	sem *semaphore.Weighted
}

// parseFactor is the memory a body takes while it is read and parsed, in
// multiples of its size.
const parseFactor = 3

// bufferWait is how long a request waits for its share of the buffer.
// It is well under the default read timeout, which covers the wait.
const bufferWait = 3 * time.Second

func newBodyBuffer(max int64) *bodyBuffer {
	return &bodyBuffer{max: max, sem: semaphore.NewWeighted(max)}
}

// acquire takes the share of a body of length n (-1 if unknown) on a
// route whose bodies are at most maxBody, and returns the function that
// releases it.
func (b *bodyBuffer) acquire(ctx context.Context, n, maxBody int64) (func(), error) {
	if n < 0 || n > maxBody {
		n = maxBody
	}
	n = max(min(n*parseFactor, b.max), 1)
	ctx, cancel := context.WithTimeout(ctx, bufferWait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, problemf(kindBusy, "too many request bodies are being read; retry later")
		}
		return nil, err
	}
	return func() { b.sem.Release(n) }, nil
}
