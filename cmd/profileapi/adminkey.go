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
	// O_EXCL: if another process made the key meanwhile, use theirs.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadAdminKey(g)
	} else if err != nil {
		return "", "", fmt.Errorf("write admin key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return "", "", fmt.Errorf("write admin key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("write admin key: %w", err)
	}
	return key, file, nil
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
	return key, file, nil
}

// givenAdminKey is the key of --admin-key or PROFILEAPI_ADMIN_KEY without
// surrounding whitespace, as the key file is read and as the admin API
// reads the presented key: a key with it would otherwise match nothing.
func givenAdminKey(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	if len(key) < minAdminKeyLen {
		return "", fmt.Errorf("--admin-key (PROFILEAPI_ADMIN_KEY) must be at least %d characters, not counting surrounding spaces", minAdminKeyLen)
	}
	return key, nil
}

func keySource(file string) string {
	if file == "" {
		return "given by --admin-key / PROFILEAPI_ADMIN_KEY"
	}
	return "in " + file + "; `profileapi admin-key` prints it"
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
			key, _, err := loadAdminKey(g)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		},
	}
}
