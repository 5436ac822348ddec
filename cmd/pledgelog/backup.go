package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/log"
	vclient "github.com/pledgelog/pledgelog/verify/client"
)

// runBackup backs up the store of a log: through the running server's
// admin endpoint if a server holds the store, else directly. It then opens
// the backup and verifies its checkpoint and tiles. The log key is not
// backed up: it is a secret, kept separately.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("backup", "--data DIR --out DEST", stderr)
	dir := fl.String("data", "./pledgelog-data", "the data directory of the log")
	out := fl.String("out", "", "the directory to write the backup to (must not exist)")
	server := fl.String("server", "", "ask the server at this URL (default: if the log is running, the URL in DIR/serve.url)")
	var logging logFlags
	logging.register(fl)
	if err := parse(fl, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{Err: errors.New("--out is required")}
	}
	dest, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("--out %s: already exists", dest)
	}
	d, logger := dataDir(*dir), logging.logger(stderr)
	if err := backup(ctx, d, dest, *server, logger); err != nil {
		return err
	}
	l, st, err := openLog(ctx, d, dest, log.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("the backup in %s does not verify: %w", dest, err)
	}
	defer st.Close()
	fmt.Fprintf(stdout, "backed up %s at tree size %d to %s (verified)\n", l.Origin(), l.Latest().Size, dest)
	fmt.Fprintf(stdout, "The log key %s is not in the backup: back it up separately.\n", d.keyFile())
	return nil
}

// backup writes a backup of the store of d to dest.
func backup(ctx context.Context, d dataDir, dest, server string, logger *slog.Logger) error {
	if _, err := d.readOrigin(); err != nil {
		return err
	}
	if server != "" {
		return remoteBackup(ctx, d, dest, server)
	}
	st, err := openStore(d.db(), logger)
	if errors.Is(err, errLocked) {
		logger.Debug("the store is in use: asking the server")
		return remoteBackup(ctx, d, dest, server)
	} else if err != nil {
		return err
	}
	defer st.Close()
	return st.Backup(ctx, dest)
}

// remoteBackup asks the running server to write a backup to dest.
func remoteBackup(ctx context.Context, d dataDir, dest, server string) error {
	httpc := vclient.NewHTTP(vclient.Agent(""), 10*time.Minute)
	if server == "" {
		var err error
		if server, httpc, err = localServer(d, 10*time.Minute); err != nil {
			return fmt.Errorf("the log is in use but its server's URL is unknown (give --server): %w", err)
		}
	}
	token, err := os.ReadFile(d.tokenFile())
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	body, _ := json.Marshal(api.BackupRequest{Dest: dest})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+"/admin/backup", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := httpc.Do(req)
	if err != nil {
		return fmt.Errorf("asking the server for a backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return problemError(resp)
	}
	return nil
}

// problemError describes a problem+json response.
func problemError(resp *http.Response) error {
	var p api.Problem
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(data, &p); err != nil || p.Title == "" {
		return fmt.Errorf("server answered %s", resp.Status)
	}
	return fmt.Errorf("server answered %s: %s: %s", resp.Status, p.Title, p.Detail)
}
