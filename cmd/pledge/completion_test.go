package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletion sources each command's bash completion in bash, and its
// zsh completion in zsh (with compadd and _files standing in for zsh's
// completion system), and completes a command, a group's subcommands, a
// flag, and a flag's value (file names).
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		prog  string
		words []string // the last is being completed
		want  string   // the completions, space-separated
	}{
		{"pledgelog", []string{"sig"}, "signatory"},
		{"pledgelog", []string{"signatory", "re"}, "recover register revoke-key"},
		{"pledgelog", []string{"signatory", "revoke-key", "--re"}, "--reason --registrar-key"},
		{"pledgelog", []string{"registrar", "key", "--"}, "--data --help --id"},
		{"pledge", []string{"sign", "--sig"}, "--signatory"},
		{"pledge", []string{"ver"}, "verify version"},
		{"pledge-verify", []string{"witness", ""}, "--help keygen serve"},
		{"pledge-verify", []string{"bundle", "--log-k"}, "--log-key"},
	} {
		line := tc.prog + " " + strings.Join(tc.words, " ")
		t.Run("bash "+line, func(t *testing.T) {
			fn := "_" + strings.ReplaceAll(tc.prog, "-", "_")
			script := `source <("$PROG" completion bash) || exit 9
COMP_WORDS=("$PROG" "$@"); COMP_CWORD=$#
` + fn + `
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
complete -p "${PROG##*/}"`
			out := shell(t, "bash", script, tc.prog, tc.words)
			got, spec, _ := strings.Cut(out, "complete ")
			if strings.TrimSpace(got) != tc.want || !strings.Contains(spec, "-F "+fn) {
				t.Errorf("bash completes %q as %q (%s), want %q", line, got, spec, tc.want)
			}
		})
		t.Run("zsh "+line, func(t *testing.T) {
			if _, err := exec.LookPath("zsh"); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatal("no zsh: .ci/run installs it (Debian's zsh)")
				}
				t.Skip("no zsh (Debian's zsh; .ci/run installs it)")
			}
			fn := "_" + strings.ReplaceAll(tc.prog, "-", "_")
			script := `compadd() { shift; for w in "$@"; do [[ $w == ${words[CURRENT]}* ]] && print -r -- $w; done }
_files() { print -r -- FILES }
source <("$PROG" completion zsh) || exit 9
words=("$PROG" "$@"); CURRENT=$(( $# + 1 ))
` + fn + ` | sort | tr '\n' ' '`
			got := shell(t, "zsh", script, tc.prog, tc.words)
			if strings.TrimSpace(got) != tc.want {
				t.Errorf("zsh completes %q as %q, want %q", line, got, tc.want)
			}
		})
	}
	// A flag's value completes file names.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "accord-example.json"), nil, 0o644)
	cmd := exec.Command("bash", "-c", `cd "$1" && source <("$PROG" completion bash) && COMP_WORDS=(pledgelog accord add --file acc) COMP_CWORD=4 && _pledgelog && echo "${#COMPREPLY[@]}" && complete -p pledgelog`, "bash", dir)
	cmd.Env = append(os.Environ(), "PROG="+filepath.Join(bin, "pledgelog"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "0\n") || !strings.Contains(string(out), "-o default") {
		t.Errorf("completing --file's value: %v: %s; want no words, so that -o default completes file names", err, out)
	}
}

// shell runs script in sh (bash or zsh) with $PROG the binary prog and
// the words as its arguments, and returns its output.
func shell(t *testing.T, sh, script, prog string, words []string) string {
	t.Helper()
	cmd := exec.Command(sh, append([]string{"-c", script, sh}, words...)...)
	cmd.Env = append(os.Environ(), "PROG="+filepath.Join(bin, prog))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v:\n%s", sh, err, out)
	}
	return string(out)
}
