package commands

import (
	"strconv"
	"strings"
	"unicode"
)

// printable escapes what a terminal would act on rather than show:
// control characters (a newline that starts a row of someone else's
// choosing, an escape sequence), and tabs, which would start a column of
// `ls`'s table. Image names and platforms come from whoever wrote the
// image's index.json and configs.
func printable(s string) string { return escape(s, notPrintable) }

// ErrorText is err's message for a terminal: control characters escaped
// but the newlines between the errors errors.Join collected. A message
// can quote what an image's author wrote (a platform, a name), and an
// escape sequence in it would otherwise reach the user's terminal.
func ErrorText(err error) string {
	return escape(err.Error(), func(r rune) bool { return r != '\n' && notPrintable(r) })
}

// escape writes the runes of s for which bad holds as Go escapes them.
func escape(s string, bad func(rune) bool) string {
	if !strings.ContainsFunc(s, bad) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if bad(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }
