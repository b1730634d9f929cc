package bench

import (
	"context"
	"fmt"
	"runtime"
)

// world is the organisation a target is measured in.
type world struct {
	owner     session
	posters   []session // one per posting client
	listeners []session // one per delivery listener, each its own user
	shared    string    // the binder every posting client posts into
	own       []string  // one binder per posting client, owned by it
	live      string    // the binder of the delivery phase
}

// sessions returns every signed-in session.
func (w *world) sessions() []session {
	all := append([]session{w.owner}, w.posters...)
	return append(all, w.listeners...)
}

// buildWorld signs every user in once and makes the binders: posters are
// editors of the shared and live binders and own one binder each;
// listeners are viewers of the live binder.
func buildWorld(ctx context.Context, a *api, owner account, users []account, clients int, password string) (*world, error) {
	w := &world{}
	var err error
	if w.owner, err = a.login(ctx, owner.Email, password); err != nil {
		return nil, err
	}
	all := make([]session, len(users))
	err = parallel(ctx, len(users), 2*runtime.NumCPU(), func(i int) (err error) {
		all[i], err = a.login(ctx, users[i].Email, password)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.posters, w.listeners = all[:clients], all[clients:]
	if err := w.makeBinders(ctx, a); err != nil {
		return nil, err
	}
	return w, w.addMembers(ctx, a)
}

func (w *world) makeBinders(ctx context.Context, a *api) error {
	var err error
	if w.shared, err = a.createBinder(ctx, w.owner, "Shared binder"); err != nil {
		return err
	}
	if w.live, err = a.createBinder(ctx, w.owner, "Delivery binder"); err != nil {
		return err
	}
	w.own = make([]string, len(w.posters))
	for i, p := range w.posters {
		if w.own[i], err = a.createBinder(ctx, p, fmt.Sprintf("Binder of client %d", i)); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) addMembers(ctx context.Context, a *api) error {
	type add struct{ binder, user, role string }
	var adds []add
	for _, p := range w.posters {
		adds = append(adds, add{w.shared, p.UserID, "editor"}, add{w.live, p.UserID, "editor"})
	}
	for _, l := range w.listeners {
		adds = append(adds, add{w.live, l.UserID, "viewer"})
	}
	return parallel(ctx, len(adds), 4, func(i int) error {
		return a.addMember(ctx, w.owner, adds[i].binder, adds[i].user, adds[i].role)
	})
}
