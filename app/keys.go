package app

import (
	"context"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// RewrapOrgKeys wraps every organisation key under the current master key
// that is not already, and returns how many it re-wrapped. Only the
// organisation keys change: the data keys under them, and the stored
// objects, stay as they are. Each re-wrap is its own transaction, audited
// in its organisation, so the work may be interrupted and run again, while
// the server runs.
func (a *App) RewrapOrgKeys(ctx context.Context) (int, error) {
	fs, err := a.files()
	if err != nil {
		return 0, err
	}
	if err := a.rewrapServerKeys(ctx, fs); err != nil {
		return 0, err
	}
	n, after := 0, ""
	for {
		current := fs.Keys.Current()
		keys, err := a.store.OrgKeysNotUnder(ctx, current, after, 100)
		if err != nil || len(keys) == 0 {
			return n, err
		}
		for _, k := range keys {
			after = k.OrgID
			key, err := fs.Keys.Unwrap(ctx, k.KEKID, k.Wrapped, orgKeyAD(k.OrgID))
			if err != nil {
				return n, atrium.Internal("app.RewrapOrgKeys", err)
			}
			kek, wrapped, err := fs.Keys.Wrap(ctx, key, orgKeyAD(k.OrgID))
			if err != nil {
				return n, atrium.Internal("app.RewrapOrgKeys", err)
			}
			var done bool
			err = a.write(ctx, func(w *writer) (err error) {
				if done, err = w.RewrapOrgKey(ctx, k.OrgID, k.KEKID, kek, wrapped); err != nil || !done {
					return err
				}
				return w.audit(k.OrgID, "key.rewrap", "org", k.OrgID, "master key "+k.KEKID+" → "+kek)
			})
			if err != nil {
				return n, err
			}
			if done {
				n++
			}
		}
	}
}

// rewrapServerKeys wraps the server's own keys (the OAuth server's) under
// the current master key.
func (a *App) rewrapServerKeys(ctx context.Context, fs FileStorage) error {
	secrets, err := a.store.ServerSecretsNotUnder(ctx, fs.Keys.Current())
	if err != nil {
		return err
	}
	for _, s := range secrets {
		ad := "atrium/server-secret/v1/" + s.Name
		key, err := fs.Keys.Unwrap(ctx, s.KEKID, s.Wrapped, ad)
		if err != nil {
			return atrium.Internal("app.rewrapServerKeys", err)
		}
		kek, wrapped, err := fs.Keys.Wrap(ctx, key, ad)
		if err != nil {
			return atrium.Internal("app.rewrapServerKeys", err)
		}
		if err := a.store.Tx(ctx, func(tx *store.Tx) error { return tx.RewrapServerSecret(ctx, s.Name, s.KEKID, kek, wrapped) }); err != nil {
			return err
		}
	}
	return nil
}

// MasterKeyInUse reports how many organisation keys (and server keys)
// master key id still wraps.
func (a *App) MasterKeyInUse(ctx context.Context, id string) (int, error) {
	return a.store.CountOrgKeysUnder(ctx, id)
}

// EraseOrgFiles destroys an organisation's key (crypto-erasure): every
// file, version and thumbnail it ever stored becomes unreadable at once,
// in the object store and in any backup of it, and no file can be stored
// for it again (an upload under way is refused when it would be
// recorded). It is audited in the organisation. An operator calls it with
// `atrium org erase-files`; the deletion of an organisation is to call it.
func (a *App) EraseOrgFiles(ctx context.Context, orgID string) error {
	if !atrium.ValidID(orgID) {
		return atrium.NotFound("organisation")
	}
	if _, err := a.store.GetOrg(ctx, orgID); err != nil {
		return err
	}
	err := a.write(ctx, func(w *writer) error {
		if err := w.DestroyOrgKey(w.ctx, orgID, w.now); err != nil {
			return err
		}
		return w.audit(orgID, "org.key_destroy", "org", orgID, "every stored file of the organisation is unreadable")
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return atrium.Errorf(atrium.EGone, "the organisation's files were erased already")
	}
	return err
}
