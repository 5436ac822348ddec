package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
)

// ErrNotCommitted is returned by PublishCosigned for a checkpoint that is
// not one the log committed: another text, or a size no batch ended at.
// The caller has a bug, or was handed a checkpoint of another log.
var ErrNotCommitted = errors.New("log: not a checkpoint this log committed")

// ErrRegress is returned by PublishCosigned for a checkpoint smaller than
// the one it last published: publication never goes back.
var ErrRegress = errors.New("log: cosigned checkpoint smaller than the published one")

// PublishCosigned publishes note, a checkpoint the log committed with the
// log's signatures and the cosignatures the caller collected, as the
// checkpoint Published returns and /checkpoint serves. The log checks
// that the text is that of its committed checkpoint of that size
// (ErrNotCommitted), that its own signature verifies, and that the size is
// not below the last one PublishCosigned published (ErrRegress); it does
// not judge the cosignatures, which is the caller's job. It is meant for a
// log opened with Config.Witnessed; safe for concurrent use.
func (l *Log) PublishCosigned(ctx context.Context, note []byte) error {
	n, err := verify.Open(note, l.vkeys...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotCommitted, err)
	}
	c, err := verify.ParseCheckpoint(n.Text)
	if err != nil || c.Origin != l.cfg.Origin {
		return fmt.Errorf("%w: not a checkpoint of %s", ErrNotCommitted, l.cfg.Origin)
	}
	committed, root, err := l.checkpointAt(ctx, c.Size)
	if errors.Is(err, ErrBeyondSize) || errors.Is(err, ErrUnknownSize) {
		return fmt.Errorf("%w: size %d", ErrNotCommitted, c.Size)
	} else if err != nil {
		return err
	}
	cn, err := verify.ParseNote(committed)
	if err != nil {
		return fmt.Errorf("log: checkpoint at size %d: %w", c.Size, corrupt(err))
	}
	if !bytes.Equal(cn.Text, n.Text) {
		return fmt.Errorf("%w: another text for size %d", ErrNotCommitted, c.Size)
	}
	l.cosignedMu.Lock()
	defer l.cosignedMu.Unlock()
	if int64(c.Size) < l.cosigned {
		return fmt.Errorf("%w (%d < %d)", ErrRegress, c.Size, l.cosigned)
	}
	l.cosigned = int64(c.Size)
	now := l.cfg.Now()
	l.published.Store(&State{Size: c.Size, Root: root, Checkpoint: bytes.Clone(note)})
	l.publishedAt.Store(&now)
	l.metrics.published.Set(float64(c.Size))
	l.cfg.Logger.Debug("published cosigned checkpoint", "size", c.Size)
	return nil
}
