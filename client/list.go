package client

import (
	"iter"
	"net/url"
	"strconv"
)

// Page is one page of a list: its items and the cursor of the next page,
// empty on the last one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListOptions asks for one page of a list: up to Limit items (the server's
// default when zero, at most 200) after the Cursor a previous page
// returned (from the start when empty).
type ListOptions struct {
	Cursor string
	Limit  int
}

func (o ListOptions) values() url.Values {
	q := url.Values{}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// MessageListOptions asks for one page of a binder's conversation: the
// messages after sequence number After, oldest first, or, when Before is
// set, those before it, newest first. A Cursor from a previous page
// continues in that page's direction and takes precedence over After and
// Before.
type MessageListOptions struct {
	After  int64
	Before int64
	Cursor string
	Limit  int
}

func (o MessageListOptions) values() url.Values {
	q := ListOptions{Cursor: o.Cursor, Limit: o.Limit}.values()
	if o.After > 0 {
		q.Set("after", strconv.FormatInt(o.After, 10))
	}
	if o.Before > 0 {
		q.Set("before", strconv.FormatInt(o.Before, 10))
	}
	return q
}

// All iterates over every item of a list, fetching page after page with
// fetch, which is given the cursor to continue from ("" for the first
// page). Iteration stops at the first error, which is yielded with a zero
// item. For example:
//
//	for b, err := range client.All(func(cursor string) (*client.Page[*atrium.Binder], error) {
//		return c.ListBinders(ctx, client.ListOptions{Cursor: cursor})
//	}) { … }
func All[T any](fetch func(cursor string) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			p, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			cursor = p.NextCursor
		}
	}
}
