package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/mongodb"
)

func runKeys(e *env, args []string) error {
	return dispatch(e, "keys", []subcommand{
		{"generate", "write a new key file (or print a key for DOTM_DATA_KEY)", runKeysGenerate},
		{"rotate", "add a new current key to a key file and re-encrypt every stored identifier to it", runKeysRotate},
		{"retire", "remove an old key from a key file once no stored value needs it", runKeysRetire},
		{"list", "list the keys of a key file", runKeysList},
	}, `Data keys encrypt the answers to direct questions (AES-256-GCM). They live in
a key file or DOTM_DATA_KEY (base64 of 32 random bytes), never in the database.`, `dotm keys generate --out /etc/dotm/data.key
dotm serve --key-file /etc/dotm/data.key`, args)
}

func runKeysGenerate(e *env, args []string) error {
	fs := newFlags(e, "keys generate", "keys generate --out FILE | --print [--from-env]",
		"dotm keys generate --out /etc/dotm/data.key\nexport DOTM_DATA_KEY=$(dotm keys generate --print)")
	out := fs.String("out", "", "write a new key file here (refuses to overwrite one)")
	print := fs.Bool("print", false, "print a new key as base64 for DOTM_DATA_KEY instead")
	fromEnv := fs.Bool("from-env", false, "with --out: put the key of DOTM_DATA_KEY in the file instead of a new one (to rotate it later)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if (*out == "") == !*print || (*fromEnv && *out == "") {
		return exitError{code: 2, msg: "keys generate: give --out FILE or --print (and --from-env only with --out)"}
	}
	if *print {
		key, err := dotm.GenerateKey(time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, encodeKey(key.Secret))
		fmt.Fprintf(e.stderr, "key %s: keep it secret and safe; without it the identifiers it encrypts are lost\n", key.ID)
		return nil
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("keys generate: %s exists; it may hold the only copy of a key, so it is not overwritten", *out)
	}
	var kr *dotm.Keyring
	var err error
	if *fromEnv {
		v := e.getenv("DOTM_DATA_KEY")
		if v == "" {
			return exitError{code: 2, msg: "keys generate: --from-env but DOTM_DATA_KEY is not set"}
		}
		kr, err = dotm.ParseDataKey(v)
	} else {
		var key dotm.Key
		if key, err = dotm.GenerateKey(time.Now()); err == nil {
			kr, err = dotm.NewKeyring(key.ID, key)
		}
	}
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	if err := kr.WriteKeyFile(*out); err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote key %s to %s (mode 0600); keep a copy somewhere safe: without it the identifiers it encrypts are lost\n", kr.Current(), *out)
	return nil
}

func runKeysRotate(e *env, args []string) error {
	fs := newFlags(e, "keys rotate", "keys rotate --key-file FILE [--data-dir DIR | --mongo-uri URI]",
		"dotm keys rotate --key-file /etc/dotm/data.key --data-dir ./data\n# a running dotm serve --key-file /etc/dotm/data.key loads the new key within a second")
	keyFile := fs.String("key-file", e.getenv("DOTM_KEY_FILE"), "the key file to rotate (env DOTM_KEY_FILE)")
	resume := fs.Bool("resume", false, "add no key: only re-encrypt what is not under the current key (after an interrupted rotation)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *keyFile == "" {
		return exitError{code: 2, msg: "keys rotate: --key-file is required (a key from DOTM_DATA_KEY can be moved to a file with dotm keys generate --out FILE --from-env)"}
	}
	kr, err := dotm.ReadKeyFile(*keyFile)
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	return sf.with(e, func(store *mongodb.Store) error {
		// Never rotate away from a key file that is not the store's: the new
		// key would be added to the wrong keys.
		if err := dotm.VerifyKeys(e.ctx, store, kr); err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		if !*resume {
			key, err := dotm.GenerateKey(time.Now())
			if err != nil {
				return err
			}
			if kr, err = kr.WithKey(key); err != nil {
				return fmt.Errorf("keys rotate: %w", err)
			}
			// The file gets the new key before anything is encrypted with it.
			if err := kr.WriteKeyFile(*keyFile); err != nil {
				return fmt.Errorf("keys rotate: %w", err)
			}
			fmt.Fprintf(e.stderr, "new current key %s written to %s\n", key.ID, *keyFile)
			if err := dotm.VerifyKeys(e.ctx, store, kr); err != nil {
				return fmt.Errorf("keys rotate: %w", err)
			}
		}
		n, err := dotm.Reencrypt(e.ctx, store, kr)
		if err != nil {
			return fmt.Errorf("keys rotate: re-encrypted %d submission(s) and file(s), then: %w (run again with --resume)", n, err)
		}
		nk, err := dotm.ReencryptODKKeys(e.ctx, store, kr)
		if err != nil {
			return fmt.Errorf("keys rotate: re-encrypted %d submission(s) and %d ODK private key(s), then: %w (run again with --resume)", n, nk, err)
		}
		if err := store.Record(e.ctx, dotm.AuditEntry{Time: time.Now().UTC(), Actor: cliActor(e), Role: dotm.RoleAdmin, Action: "key_rotate",
			Target: kr.Current(), Detail: fmt.Sprintf("%d submissions and files and %d ODK private keys re-encrypted", n, nk)}); err != nil {
			return fmt.Errorf("keys rotate: audit: %w", err)
		}
		fmt.Fprintf(e.stdout, "re-encrypted %d submission(s) and file(s) and %d ODK private key(s) to key %s; older keys stay readable until dotm keys retire; a running dotm serve with this key file encrypts with the new key within %s (one given the key in DOTM_DATA_KEY needs a restart with --key-file)\n", n, nk, kr.Current(), keyReloadInterval)
		return nil
	})
}

func runKeysRetire(e *env, args []string) error {
	fs := newFlags(e, "keys retire", "keys retire --key-file FILE --id KEYID [--data-dir DIR | --mongo-uri URI]",
		"dotm keys retire --key-file /etc/dotm/data.key --id k0123456789abcdef")
	keyFile := fs.String("key-file", e.getenv("DOTM_KEY_FILE"), "the key file (env DOTM_KEY_FILE)")
	id := fs.String("id", "", "the key to remove")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *id == "" {
		return exitError{code: 2, msg: "keys retire: --key-file and --id are required"}
	}
	kr, err := dotm.ReadKeyFile(*keyFile)
	if err != nil {
		return fmt.Errorf("keys retire: %w", err)
	}
	return sf.with(e, func(store *mongodb.Store) error {
		if kr, err = kr.Without(*id); err != nil {
			return fmt.Errorf("keys retire: %w", err)
		}
		// A running dotm serve loads a changed key file within keyReloadInterval;
		// until then it may still encrypt with the key being retired (just
		// after a rotation), so the count waits until every server has had time.
		if wait := keyFileSettleWait(*keyFile, time.Now()); wait > 0 {
			fmt.Fprintf(e.stderr, "waiting %s for running servers to load the key file\n", wait.Round(100*time.Millisecond))
			select {
			case <-time.After(wait):
			case <-e.ctx.Done():
				return e.ctx.Err()
			}
		}
		use, err := store.KeyUse(e.ctx)
		if err != nil {
			return fmt.Errorf("keys retire: %w", err)
		}
		if n := use[*id]; n > 0 {
			return fmt.Errorf("keys retire: %d stored value(s) are still under key %s; run dotm keys rotate --resume first", n, *id)
		}
		if err := kr.WriteKeyFile(*keyFile); err != nil {
			return fmt.Errorf("keys retire: %w", err)
		}
		if err := store.DeleteKeyCheck(e.ctx, *id); err != nil {
			return fmt.Errorf("keys retire: %w", err)
		}
		if err := store.Record(e.ctx, dotm.AuditEntry{Time: time.Now().UTC(), Actor: cliActor(e), Role: dotm.RoleAdmin, Action: "key_retire", Target: *id}); err != nil {
			return fmt.Errorf("keys retire: audit: %w", err)
		}
		fmt.Fprintf(e.stdout, "key %s retired from %s\n", *id, *keyFile)
		return nil
	})
}

func runKeysList(e *env, args []string) error {
	fs := newFlags(e, "keys list", "keys list --key-file FILE", "dotm keys list --key-file /etc/dotm/data.key")
	keyFile := fs.String("key-file", e.getenv("DOTM_KEY_FILE"), "the key file (env DOTM_KEY_FILE)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *keyFile == "" {
		return exitError{code: 2, msg: "keys list: --key-file is required"}
	}
	kr, err := dotm.ReadKeyFile(*keyFile)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCURRENT")
	for _, id := range kr.IDs() {
		cur := ""
		if id == kr.Current() {
			cur = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\n", id, cur)
	}
	return tw.Flush()
}

// cliActor names who runs a CLI command in the audit trail.
func cliActor(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// loadKeys finds the data keys for dotm serve: --key-file, else
// DOTM_DATA_KEY, else (only with --insecure-dev-key) a development key file
// kept in the data dir. Without any of them it refuses. path is the key
// file the keys came from ("" for DOTM_DATA_KEY).
func loadKeys(e *env, keyFile string, insecure bool, dataDir string, logger *slog.Logger) (kr *dotm.Keyring, path string, err error) {
	envKey := e.getenv("DOTM_DATA_KEY")
	switch {
	case keyFile != "" && envKey != "":
		return nil, "", errors.New("serve: both --key-file and DOTM_DATA_KEY are set; give one")
	case keyFile != "":
		kr, err := dotm.ReadKeyFile(keyFile)
		return kr, keyFile, err
	case envKey != "":
		kr, err := dotm.ParseDataKey(envKey)
		return kr, "", err
	case insecure:
		kr, path, err := devKeyring(dataDir)
		if err != nil {
			return nil, "", err
		}
		logger.Warn("using an INSECURE development data key stored next to the data; never do this with real interviews", "key_file", path, "key", kr.Current())
		return kr, path, nil
	}
	return nil, "", errors.New("serve: no data key: pass --key-file FILE or set DOTM_DATA_KEY (make one with dotm keys generate), or --insecure-dev-key for a throwaway setup")
}

// keyReloadInterval is how often dotm serve looks at its key file; dotm
// keys retire waits twice this long after the file last changed, so that
// every running server encrypts with the new current key before retire
// counts what is left under the old one.
const keyReloadInterval = time.Second

// keyFileSettleWait is how long, at now, keys retire must still wait for
// running servers to have loaded the key file at path: two reload intervals
// after it last changed.
func keyFileSettleWait(path string, now time.Time) time.Duration {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return max(0, 2*keyReloadInterval-now.Sub(st.ModTime()))
}

// watchKeyFile gives api the keys of the key file at path whenever the file
// changes (dotm keys rotate writes a new current key; retire removes one):
// it looks every interval, and at once on SIGHUP. A file that does not read
// leaves the keys in use, and says so in the log.
func watchKeyFile(ctx context.Context, path string, api *collector.Server, checks dotm.KeyCheckStore, logger *slog.Logger, interval time.Duration) {
	stamp := func() string {
		st, err := os.Stat(path)
		if err != nil {
			return "missing"
		}
		return st.ModTime().String() + "/" + strconv.FormatInt(st.Size(), 10)
	}
	last := stamp()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		forced := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-hup:
			forced = true
		}
		now := stamp()
		if now == last && !forced {
			continue
		}
		last = now
		kr, err := dotm.ReadKeyFile(path)
		if err != nil {
			logger.Error("data key file changed but does not read; keeping the keys in use", "key_file", path, "error", err.Error())
			continue
		}
		if cur := api.Keys(); cur != nil && cur.Current() == kr.Current() && slices.Equal(cur.IDs(), kr.IDs()) {
			continue
		}
		if err := dotm.VerifyKeys(ctx, checks, kr); err != nil {
			logger.Error("data key file changed but its keys do not verify against the store; keeping the keys in use", "key_file", path, "error", err.Error())
			continue
		}
		api.SetKeys(kr)
		logger.Info("data keys reloaded", "key_file", path, "data_key", kr.Current(), "keys", len(kr.IDs()))
	}
}

// devKeyring loads, or creates, the development key file dev-data.key in dir.
func devKeyring(dir string) (*dotm.Keyring, string, error) {
	path := filepath.Join(dir, "dev-data.key")
	kr, err := dotm.ReadKeyFile(path)
	if err == nil {
		return kr, path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, path, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, path, fmt.Errorf("dev key: %w", err)
	}
	key, err := dotm.GenerateKey(time.Now())
	if err != nil {
		return nil, path, err
	}
	if kr, err = dotm.NewKeyring(key.ID, key); err != nil {
		return nil, path, err
	}
	if err := kr.WriteKeyFile(path); err != nil {
		return nil, path, err
	}
	return kr, path, nil
}

func encodeKey(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
