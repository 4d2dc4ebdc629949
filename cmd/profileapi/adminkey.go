package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

const minAdminKeyLen = 16

// loadAdminKey returns the admin key: the one given, or the one kept in the
// data directory, made on first start. There is no way to run without one.
func loadAdminKey(g *globals) (key, file string, err error) {
	key, file, err = readAdminKey(g)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, file, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	key = base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
		return "", "", err
	}
	switch err := publishKey(file, key); {
	case errors.Is(err, fs.ErrExist): // another process made one meanwhile: use theirs
		return readAdminKey(g)
	case err != nil:
		return "", "", fmt.Errorf("write admin key: %w", err)
	}
	return key, file, nil
}

// publishKey writes key to file whole or not at all, failing with
// fs.ErrExist if the file exists: written beside it, then linked to its
// name, so that a process starting at the same time never reads it half
// written.
func publishKey(file, key string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".admin.key-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(key + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), file); errors.Is(err, fs.ErrExist) || err == nil {
		return err
	}
	// No hard links on this file system: create it exclusively instead,
	// which another process may read before it is written.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readAdminKey returns the admin key given, or the one kept in the data
// directory; an error wrapping fs.ErrNotExist if there is neither. The
// clients read it only: a key they made would not be the server's.
func readAdminKey(g *globals) (key, file string, err error) {
	if g.adminKey != "" {
		key, err := givenAdminKey(g.adminKey)
		return key, "", err
	}
	file = filepath.Join(g.dataDir, "admin.key")
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", file, fmt.Errorf("no admin key in %s: %w", g.dataDir, err)
	} else if err != nil {
		return "", "", fmt.Errorf("read admin key: %w", err)
	}
	key = strings.TrimSpace(string(b))
	if len(key) < minAdminKeyLen {
		return "", "", fmt.Errorf("admin key file %s holds a key shorter than %d characters", file, minAdminKeyLen)
	}
	if !sendableKey(key) {
		return "", "", fmt.Errorf("admin key file %s holds a key with a line break or another character no Authorization header can carry: keep one line of letters, digits and punctuation", file)
	}
	return key, file, nil
}

// sendableKey reports whether a client can send key in an Authorization
// header: no control characters. openssl rand -base64 64, say, breaks its
// output into lines.
func sendableKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] < ' ' || key[i] == 0x7f {
			return false
		}
	}
	return true
}

// givenAdminKey is the key of --admin-key or PROFILEAPI_ADMIN_KEY without
// surrounding whitespace, as the key file is read and as the admin API
// reads the presented key: a key with it would otherwise match nothing.
func givenAdminKey(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	if len(key) < minAdminKeyLen {
		return "", fmt.Errorf("--admin-key (PROFILEAPI_ADMIN_KEY) must be at least %d characters, not counting surrounding spaces", minAdminKeyLen)
	}
	if !sendableKey(key) {
		return "", errors.New("--admin-key (PROFILEAPI_ADMIN_KEY) has a line break or another character no Authorization header can carry: give one line of letters, digits and punctuation, such as the output of openssl rand -hex 32")
	}
	return key, nil
}

// keySource says in the banner where the admin key is; dataDirFlag is
// what the admin-key command needs to find it, if anything.
func keySource(file, dataDirFlag string) string {
	if file == "" {
		return "given by --admin-key / PROFILEAPI_ADMIN_KEY"
	}
	return "in " + file + "; `profileapi admin-key" + dataDirFlag + "` prints it"
}

func adminKeyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "admin-key",
		Short: "Print the admin key kept in the data directory",
		Long: `admin-key prints the admin key that serve made and keeps in --data-dir
(creating it if serve has not run yet), for use as
Authorization: Bearer {admin key} on the admin API.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, _, existed := readAdminKey(g)
			key, file, err := loadAdminKey(g)
			if err != nil {
				return err
			}
			if errors.Is(existed, fs.ErrNotExist) {
				// A server of another data directory would refuse it.
				fmt.Fprintf(cmd.ErrOrStderr(), "profileapi: made a new admin key in %s: a server started with --data-dir %s uses it; for a running one, give its --data-dir\n", file, shellQuote(g.dataDir))
			}
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		},
	}
}
