package atrium

// SSOStringToSign is the string an app signs: the four fields joined by
// line feeds, and when a profile (email, name) is sent, those two after
// them. No field holds a line feed, so four-field and six-field strings
// never meet.
func SSOStringToSign(clientID, uniqueID, timestamp, nonce, email, name string) string {
	s := clientID + "\n" + uniqueID + "\n" + timestamp + "\n" + nonce
	if email != "" || name != "" {
		s += "\n" + email + "\n" + name
	}
	return s
}
