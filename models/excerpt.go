package models

import "unicode/utf8"

// ExcerptLength is how many characters of a user's input a message quotes.
const ExcerptLength = 60

// Excerpt is s quoted in a message: at most ExcerptLength characters, cut
// on a character boundary and marked with "…", so a pasted novel does not
// become the error message.
func Excerpt(s string) string {
	if utf8.RuneCountInString(s) <= ExcerptLength {
		return s
	}
	n := 0
	for i := range s {
		if n == ExcerptLength {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
