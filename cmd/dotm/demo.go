package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dotm-survey/dotm/collector"
)

func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo", "demo [--out DIR]",
		"dotm demo --out ./demo\ndotm serve --data-dir ./demo/data   # explore the same data through the API")
	out := fs.String("out", "demo", "directory for the demo's data, report and release (emptied first)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := os.RemoveAll(*out); err != nil {
		return fmt.Errorf("demo: clear %s: %w", *out, err)
	}
	dataDir := filepath.Join(*out, "data")
	sf := &storeFlags{dataDir: dataDir}
	fmt.Fprintf(e.stdout, "dotm demo: starting the embedded store in %s\n", dataDir)
	store, err := sf.open(e)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	token, hash, err := collector.NewToken()
	if err != nil {
		_ = store.Close(context.Background())
		return err
	}
	if err := store.AddUser(e.ctx, collector.User{Name: "admin", Role: collector.RoleAdmin}, hash); err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("demo: add admin: %w", err)
	}
	keys, keyFile, err := devKeyring(dataDir)
	if err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("demo: data key: %w", err)
	}
	fmt.Fprintf(e.stdout, "dotm demo: identifiers are encrypted with a generated development key in %s (use dotm keys generate for real data)\n", keyFile)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("demo: listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	done := make(chan error, 1)
	go func() {
		done <- serveOn(ctx, ln, store, logger, serveFlags{shutdownWait: 10 * time.Second, keys: keys})
	}()
	client := &http.Client{Timeout: 30 * time.Second}
	var me struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := demoGet(ctx, client, base+"/readyz", "", nil); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := demoGet(ctx, client, base+"/api/v1/me", token, &me); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(e.stdout, "dotm demo: API up at %s, signed in as %s (%s)\n", base, me.Name, me.Role)
	stop()
	if err := <-done; err != nil {
		return err
	}
	tokenFile := filepath.Join(*out, "admin.token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo: write token: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nExplore the same data through the API:\n  dotm serve --data-dir %s\n  curl -H \"Authorization: Bearer $(cat %s)\" http://127.0.0.1:8080/api/v1/me\n", dataDir, tokenFile)
	return nil
}

// demoGet GETs url with an optional bearer token and decodes a 200 answer.
func demoGet(ctx context.Context, client *http.Client, url, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
