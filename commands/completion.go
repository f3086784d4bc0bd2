package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The shell scripts ask the binary itself for candidates through
// urfave/cli's hidden --generate-bash-completion flag, so they never go
// stale as commands and flags change.
const bashCompletion = `# imgp2p bash completion: source <(imgp2p completion bash)
_imgp2p_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}" words args=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
	# A word being typed that starts with - asks for flags.
	[[ $cur == -* ]] && args+=("$cur")
	words=$("${COMP_WORDS[0]}" "${args[@]}" --generate-bash-completion 2>/dev/null)
	COMPREPLY=($(compgen -W "${words}" -- "${cur}"))
}
complete -o default -o bashdefault -F _imgp2p_complete imgp2p
`

const zshCompletion = `#compdef imgp2p
# imgp2p zsh completion: source <(imgp2p completion zsh)
_imgp2p() {
	local -a candidates
	candidates=("${(@f)$(${words[1]} ${words[@]:1:$((CURRENT-2))} --generate-bash-completion 2>/dev/null)}")
	_describe 'imgp2p' candidates
}
compdef _imgp2p imgp2p
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		ArgsUsage: "bash|zsh|fish",
		Description: `   source <(imgp2p completion bash)             # in ~/.bashrc
   source <(imgp2p completion zsh)              # in ~/.zshrc
   imgp2p completion fish > ~/.config/fish/completions/imgp2p.fish`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				// It said `completion for "": want …` given nothing.
				return fmt.Errorf("completion takes one shell: bash, zsh or fish")
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.App.Writer, script)
				return err
			default:
				return fmt.Errorf("completion for %q: want bash, zsh or fish", shell)
			}
		},
	}
}
