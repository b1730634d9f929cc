package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// idempotent runs a creating write once per client idempotency key: the
// first call does the work and stores its result in the same transaction;
// a retry with the same key and request gets the stored result, and the
// same key with another request gets EPrecondition. Without a key it simply
// runs the write.
func idempotent[T any](a *App, ctx context.Context, op string, req any, do func(w *writer) (T, error)) (T, error) {
	var out T
	act := atrium.ActorFrom(ctx)
	key := atrium.ClientInfoFrom(ctx).IdempotencyKey
	if key == "" || act == nil {
		err := a.write(ctx, func(w *writer) (err error) {
			out, err = do(w)
			return err
		})
		return out, err
	}
	if len(key) > atrium.MaxIdempotencyKey {
		return out, atrium.Errorf(atrium.EInvalid, "Idempotency-Key is longer than %d bytes", atrium.MaxIdempotencyKey)
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return out, atrium.Internal("app.idempotent", err)
	}
	sum := sha256.Sum256(append([]byte(op+"\x00"), reqJSON...))
	for attempt := 0; ; attempt++ {
		err = a.write(ctx, func(w *writer) error {
			prev, err := w.GetIdempotent(ctx, act.User.ID, key)
			if err != nil {
				return err
			}
			if prev != nil {
				return replay(prev, op, sum[:], &out)
			}
			if out, err = do(w); err != nil {
				return err
			}
			resp, err := json.Marshal(forReplay(out))
			if err != nil {
				return atrium.Internal("app.idempotent", err)
			}
			return w.PutIdempotent(ctx, act.User.ID, key, &store.IdempotentResult{Op: op, RequestHash: sum[:], Response: string(resp)}, w.now)
		})
		// Two copies of one request raced on another node: the loser
		// reads the winner's result.
		if atrium.ErrorCode(err) == atrium.EConflict && attempt == 0 {
			if prev, _ := a.store.GetIdempotent(ctx, act.User.ID, key); prev != nil {
				continue
			}
		}
		return out, err
	}
}

// replayable is a result that holds a secret shown only once (an
// invitation token, say): what is stored for replays leaves it out.
type replayable interface{ ForReplay() any }

func forReplay(v any) any {
	if r, ok := v.(replayable); ok {
		return r.ForReplay()
	}
	return v
}

func replay(prev *store.IdempotentResult, op string, sum []byte, out any) error {
	if prev.Op != op || !bytes.Equal(prev.RequestHash, sum) {
		return atrium.Errorf(atrium.EPrecondition, "this Idempotency-Key was used for a different request")
	}
	if err := json.Unmarshal([]byte(prev.Response), out); err != nil {
		return atrium.Internal("app.replay", err)
	}
	return nil
}
