package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/blob"
	"github.com/atrium-dev/atrium/keyring"
)

// openKeyring returns the master keyring: from ATRIUM_MASTER_KEYS if set,
// else from --master-key-file, else from master.keys in the data dir,
// which is created at first start.
func (d *dbFlags) openKeyring() (*keyring.Keyring, error) {
	if env := os.Getenv("ATRIUM_MASTER_KEYS"); env != "" {
		if d.masterKeyFile != "" {
			return nil, errors.New("give the master keys either in ATRIUM_MASTER_KEYS or with --master-key-file, not both")
		}
		return keyring.Parse([]byte(env))
	}
	if d.masterKeyFile != "" {
		return keyring.Load(d.masterKeyFile)
	}
	if err := os.MkdirAll(d.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	k, _, err := keyring.LoadOrCreate(filepath.Join(d.dataDir, "master.keys"))
	return k, err
}

// fileStorage opens where file bodies are kept (blobs/ in the data dir, or
// the bucket --blob-url names), with the master keyring.
func (d *dbFlags) fileStorage(ctx context.Context) (app.FileStorage, *keyring.Keyring, error) {
	keys, err := d.openKeyring()
	if err != nil {
		return app.FileStorage{}, nil, err
	}
	var blobs blob.Store
	if d.blobURL != "" {
		blobs, err = blob.NewS3(ctx, d.blobURL)
	} else {
		blobs, err = blob.NewLocal(filepath.Join(d.dataDir, "blobs"))
	}
	if err != nil {
		return app.FileStorage{}, nil, err
	}
	return app.FileStorage{Blobs: blobs, Keys: keys}, keys, nil
}
