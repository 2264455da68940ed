package main

import (
	"crypto/rsa"
	"fmt"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/odkcrypt"
	"github.com/dotm-survey/dotm/mongodb"
)

// runFormsKeys: dotm forms keys, a survey's key pairs for ODK encrypted
// forms (dotm.ODKKey).
func runFormsKeys(e *env, args []string) error {
	return dispatch(e, "forms keys", []subcommand{
		{"generate", "make a new RSA-2048 key pair for a survey's ODK encrypted forms and print its public key", runFormsKeysGenerate},
		{"import", "import the PEM private key of a form's XLSForm public_key", runFormsKeysImport},
		{"list", "list a survey's ODK keys", runFormsKeysList},
	}, `ODK Collect encrypts every interview of a form whose XForm carries a public key
(docs.getodk.org, "Encrypted forms"); dotm decrypts it on receipt. After
generate, the survey's forms without a public_key setting of their own are
served with the new public key; a form whose XLSForm settings carry a
public_key needs its private key imported. Private keys are stored sealed
under the data key (--key-file or DOTM_DATA_KEY, as for dotm serve).`, `dotm forms keys generate --survey gh-2026 --key-file /etc/dotm/data.key
dotm forms keys import --survey gh-2026 --private-key odk-private.pem --key-file /etc/dotm/data.key`, args)
}

// formsKeysFlags are the flags every forms keys command has.
type formsKeysFlags struct {
	survey, keyFile string
	insecure        bool
	store           *storeFlags
}

func (f *formsKeysFlags) add(e *env, fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.survey, "survey", "", "the survey (required)")
	fs.StringVar(&f.keyFile, "key-file", e.getenv("DOTM_KEY_FILE"), "data key file (env DOTM_KEY_FILE; or set DOTM_DATA_KEY)")
	fs.BoolVar(&f.insecure, "insecure-dev-key", false, "use the development data key kept in the data dir")
}

// put seals priv under the data key and stores it as the survey's newest
// ODK key.
func (f *formsKeysFlags) put(e *env, cmd string, priv func() (*rsa.PrivateKey, error)) error {
	if f.survey == "" {
		return exitError{code: 2, msg: "forms keys " + cmd + ": --survey is required"}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	kr, _, err := loadKeys(e, f.keyFile, f.insecure, f.store.dataDir, logger)
	if err != nil {
		return fmt.Errorf("forms keys %s: %w", cmd, err)
	}
	k, err := priv()
	if err != nil {
		return fmt.Errorf("forms keys %s: %w", cmd, err)
	}
	return f.store.with(e, func(store *mongodb.Store) error {
		if err := dotm.VerifyKeys(e.ctx, store, kr); err != nil {
			return fmt.Errorf("forms keys %s: %w", cmd, err)
		}
		if _, err := store.Survey(e.ctx, f.survey); err != nil {
			return fmt.Errorf("forms keys %s: %w", cmd, err)
		}
		ok, err := dotm.SealODKKey(kr, f.survey, k, cliActor(e), time.Now())
		if err != nil {
			return fmt.Errorf("forms keys %s: %w", cmd, err)
		}
		if err := store.PutODKKey(e.ctx, ok); err != nil {
			return fmt.Errorf("forms keys %s: %w", cmd, err)
		}
		if err := store.Record(e.ctx, dotm.AuditEntry{Time: time.Now().UTC(), Actor: cliActor(e), Role: dotm.RoleAdmin, Action: "odk_key_" + cmd,
			Survey: f.survey, Target: ok.Fingerprint}); err != nil {
			return fmt.Errorf("forms keys %s: audit: %w", cmd, err)
		}
		fmt.Fprintln(e.stdout, ok.PublicKey)
		fmt.Fprintf(e.stderr, "ODK key %s of survey %s stored (private key sealed under data key %s); above is its public key, for an XLSForm's public_key setting. Forms of the survey without a public_key of their own are now served encrypted with it.\n", ok.Fingerprint, f.survey, ok.Private.KeyID)
		return nil
	})
}

func runFormsKeysGenerate(e *env, args []string) error {
	fs := newFlags(e, "forms keys generate", "forms keys generate --survey ID [--key-file FILE] [--data-dir DIR | --mongo-uri URI]",
		"dotm forms keys generate --survey gh-2026 --key-file /etc/dotm/data.key")
	f := &formsKeysFlags{}
	f.add(e, fs)
	f.store = addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	return f.put(e, "generate", odkcrypt.GenerateKey)
}

func runFormsKeysImport(e *env, args []string) error {
	fs := newFlags(e, "forms keys import", "forms keys import --survey ID --private-key PEM [--key-file FILE] [--data-dir DIR | --mongo-uri URI]",
		"openssl genrsa -out odk-private.pem 2048\nopenssl rsa -in odk-private.pem -pubout   # the public_key setting, without the BEGIN/END lines\ndotm forms keys import --survey gh-2026 --private-key odk-private.pem --key-file /etc/dotm/data.key")
	f := &formsKeysFlags{}
	f.add(e, fs)
	pemFile := fs.String("private-key", "", "the PEM private key (PKCS#1 or PKCS#8, no passphrase; required)")
	f.store = addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *pemFile == "" {
		return exitError{code: 2, msg: "forms keys import: --private-key is required"}
	}
	return f.put(e, "import", func() (*rsa.PrivateKey, error) {
		b, err := os.ReadFile(*pemFile)
		if err != nil {
			return nil, err
		}
		defer clear(b)
		k, err := odkcrypt.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", *pemFile, err)
		}
		return k, nil
	})
}

func runFormsKeysList(e *env, args []string) error {
	fs := newFlags(e, "forms keys list", "forms keys list --survey ID [--data-dir DIR | --mongo-uri URI]",
		"dotm forms keys list --survey gh-2026")
	survey := fs.String("survey", "", "the survey (required)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *survey == "" {
		return exitError{code: 2, msg: "forms keys list: --survey is required"}
	}
	return sf.with(e, func(store *mongodb.Store) error {
		keys, err := store.ODKKeys(e.ctx, *survey)
		if err != nil {
			return fmt.Errorf("forms keys list: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FINGERPRINT\tCREATED\tBY\tDATA KEY\tSERVED\tPUBLIC KEY")
		for i, k := range keys {
			served := ""
			if i == len(keys)-1 {
				served = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Fingerprint, k.Created.Format(time.RFC3339), k.CreatedBy, k.Private.KeyID, served, k.PublicKey)
		}
		return tw.Flush()
	})
}
