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
func printable(s string) string {
	if !strings.ContainsFunc(s, notPrintable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if notPrintable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }
