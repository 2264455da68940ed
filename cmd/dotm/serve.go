package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/mongodb"
)

type serveFlags struct {
	addr         string
	maxBody      int64
	shutdownWait time.Duration
	store        *storeFlags
	keyFile      string
	insecureKey  bool
	// keys encrypt answers to direct questions; serveOn refuses to start without.
	keys *dotm.Keyring
	// keyPath is the key file keys came from ("" for DOTM_DATA_KEY), which
	// serveOn watches for dotm keys rotate and retire.
	keyPath string
	// limits: request deadline, slow-client cut-off, TLS (nil: defaults).
	limits *serveLimits
}

func runServe(e *env, args []string) error {
	fs := newFlags(e, "serve", "serve [--addr HOST:PORT] [--data-dir DIR | --mongo-uri URI]",
		"dotm serve --addr 127.0.0.1:8080 --data-dir ./data\ncurl -s http://127.0.0.1:8080/readyz")
	var f serveFlags
	fs.StringVar(&f.addr, "addr", envOr(e, "DOTM_ADDR", "127.0.0.1:8080"), "listen address (env DOTM_ADDR)")
	fs.Int64Var(&f.maxBody, "max-body", 32<<20, "largest request body in bytes (413 above it)")
	fs.DurationVar(&f.shutdownWait, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	fs.StringVar(&f.keyFile, "key-file", e.getenv("DOTM_KEY_FILE"), "data key file from dotm keys generate (env DOTM_KEY_FILE; or set DOTM_DATA_KEY)")
	fs.BoolVar(&f.insecureKey, "insecure-dev-key", false, "without a key, generate one and keep it in the data dir (development only)")
	f.store = addStoreFlags(e, fs)
	f.limits = addServeLimits(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := f.limits.check(); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, nil))
	keys, keyPath, err := loadKeys(e, f.keyFile, f.insecureKey, f.store.dataDir, logger)
	if err != nil {
		return err
	}
	f.keys, f.keyPath = keys, keyPath
	store, err := f.store.open(e)
	if err != nil {
		return err
	}
	// The wrong or a damaged key file is refused before anything is
	// sealed with it.
	if err := dotm.VerifyKeys(e.ctx, store, keys); err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("serve: listen on %s: %w", f.addr, err)
	}
	logger.Info("dotm serving", "addr", f.limits.scheme()+"://"+ln.Addr().String(), "store", store.URI(), "embedded", store.Embedded(), "version", version(), "data_key", keys.Current())
	return serveOn(e.ctx, ln, store, logger, f)
}

// serveOn serves the API on ln until ctx ends, then lets in-flight requests
// finish and closes the store.
func serveOn(ctx context.Context, ln net.Listener, store *mongodb.Store, logger *slog.Logger, f serveFlags) error {
	api := collector.NewServer(collector.Deps{
		Logger:       logger,
		DB:           store,
		Users:        store,
		Accounts:     store,
		Auditor:      store,
		Surveys:      store,
		Forms:        store,
		Assignments:  store,
		Submissions:  store,
		Listings:     store,
		AuditLog:     store,
		Design:       store,
		Weights:      store,
		Approved:     store,
		Releases:     store,
		Attachments:  store,
		Tallies:      store,
		Fingerprints: store,
		ODKKeys:      store,
		Keys:         f.keys,
		MaxBodyBytes: f.maxBody,
		Version:      version(),
		// Proxy headers only from --trusted-proxies.
		TrustedProxies:   f.limits.proxies(),
		MaxInFlightBytes: f.limits.inflight(),
	})
	srv := &http.Server{
		Handler:           f.limits.wrap(api),
		ReadHeaderTimeout: f.limits.headerTimeout(),
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if f.keyPath != "" {
		wctx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go watchKeyFile(wctx, f.keyPath, api, store, logger, keyReloadInterval)
	}
	// The progress summary's tallies: built for submissions that have
	// none and set where a failed update left them behind, at start and
	// then after any failed tally write.
	rctx, stopReconcile := context.WithCancel(ctx)
	reconciled := make(chan struct{})
	go func() { defer close(reconciled); api.KeepTalliesReconciled(rctx, time.Minute) }()
	errc := make(chan error, 1)
	go func() { errc <- f.limits.serve(srv, ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down: waiting for in-flight requests", "timeout", f.shutdownWait.String())
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Error("shutdown", "error", err.Error())
	}
	stopReconcile()
	<-reconciled
	if err := store.Close(sctx); err != nil {
		logger.Error("close store", "error", err.Error())
	}
	logger.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}
