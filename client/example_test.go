package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// A client signs in, starts a conversation and follows its events.
func Example() {
	ctx := context.Background()
	c, err := client.New("https://atrium.example.com")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Login(ctx, "ana@example.com", "correct horse battery staple", "example"); err != nil {
		log.Fatal(err)
	}
	events, err := c.Subscribe(ctx, client.SubscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer events.Close()

	b, err := c.CreateBinder(ctx, client.CreateBinderInput{Title: "Tax return 2026"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.PostMessage(ctx, b.ID, client.PostMessageInput{Text: "Welcome!"}); err != nil {
		log.Fatal(err)
	}
	for {
		ev, err := events.Next(ctx)
		if errors.Is(err, client.ErrSessionEnded) {
			log.Fatal("signed out elsewhere")
		}
		if err != nil {
			log.Fatal(err)
		}
		if ev.Type == atrium.EventMessageCreated {
			fmt.Println(ev.Message.Seq, ev.Message.Text)
		}
	}
}

// Refusals are *client.Error values carrying Atrium's error code.
func ExampleError() {
	c, _ := client.New("https://atrium.example.com", client.WithToken("…"))
	_, err := c.GetBinder(context.Background(), "01a2…")
	var e *client.Error
	if errors.As(err, &e) && e.Code == atrium.ENotFound {
		fmt.Println("no such binder, or not yours")
	}
}
