package atrium

import "testing"

// The string an app signs is a published protocol (the README shows it
// for openssl): these are its exact bytes.
func TestSSOStringToSign(t *testing.T) {
	cases := []struct {
		name, email, display, want string
	}{
		{"no profile", "", "", "app\ncust-7\n1790000000\nn-1"},
		{"email and name", "a@b.example", "Ana", "app\ncust-7\n1790000000\nn-1\na@b.example\nAna"},
		{"email alone", "a@b.example", "", "app\ncust-7\n1790000000\nn-1\na@b.example\n"},
		{"name alone", "", "Ana", "app\ncust-7\n1790000000\nn-1\n\nAna"},
	}
	for _, c := range cases {
		if got := SSOStringToSign("app", "cust-7", "1790000000", "n-1", c.email, c.display); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
