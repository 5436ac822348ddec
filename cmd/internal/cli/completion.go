package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Leaf is a command that runs (not a group), with its flags, as its help
// lists them.
type Leaf struct {
	Path  []string // "signatory", "register"
	Flags []Flag
}

// Flag is a flag of a Leaf; Value is its placeholder, "" for a boolean.
type Flag struct{ Name, Value string }

// helpFlag matches a flag line of NewFlags' usage.
var helpFlag = regexp.MustCompile(`(?m)^  --([a-z0-9][a-z0-9-]*)( [A-Z][A-Z_]*)? \(`)

// Leaves returns every command of the command table, a group's
// subcommands in its place, each with the flags that its -h lists.
func Leaves(ctx context.Context, commands map[string]Command, groups map[string]Group) []Leaf {
	var out []Leaf
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		if g, ok := groups[name]; ok {
			for _, sub := range slices.Sorted(maps.Keys(g.Commands)) {
				out = append(out, probe(ctx, []string{name, sub}, g.Commands[sub]))
			}
			continue
		}
		out = append(out, probe(ctx, []string{name}, commands[name]))
	}
	return out
}

// probe runs cmd -h and reads its flags from the help.
func probe(ctx context.Context, path []string, cmd Command) Leaf {
	var help bytes.Buffer
	cmd(ctx, []string{"-h"}, &help, helpWriter{io.Discard, &help})
	l := Leaf{Path: path}
	for _, m := range helpFlag.FindAllStringSubmatch(help.String(), -1) {
		l.Flags = append(l.Flags, Flag{m[1], strings.TrimSpace(m[2])})
	}
	return l
}

// CompletionCommand is the completion command of prog: completion bash
// and completion zsh print a script that completes prog's commands,
// subcommands, flags and file names; completion commands prints each
// command and its flags, a line each. commands returns the command table
// (it holds this command), groups its command groups.
func CompletionCommand(prog string, commands func() map[string]Command, groups map[string]Group) Command {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 1 && isHelp(args[0]) {
			fmt.Fprintf(HelpOutput(stderr), "usage: %s completion bash|zsh|commands\n\n"+
				"bash: source <(%s completion bash)\n"+
				"zsh:  source <(%s completion zsh)   (or save it as _%s in a directory of $fpath)\n"+
				"commands: each command and its flags, a line each\n", prog, prog, prog, prog)
			return nil
		}
		if len(args) != 1 {
			return Usagef("completion: give bash, zsh or commands")
		}
		leaves := Leaves(ctx, commands(), groups)
		switch args[0] {
		case "bash":
			_, err := io.WriteString(stdout, bashScript(prog, commands(), groups, leaves))
			return err
		case "zsh":
			_, err := io.WriteString(stdout, zshScript(prog, commands(), groups, leaves))
			return err
		case "commands":
			for _, l := range leaves {
				line := strings.Join(l.Path, " ")
				for _, f := range l.Flags {
					line += " --" + f.Name
					if f.Value != "" {
						line += " " + f.Value
					}
				}
				fmt.Fprintln(stdout, line)
			}
			return nil
		}
		return Usagef("completion %q: give bash, zsh or commands", args[0])
	}
}

// tables returns the shell case arms shared by both scripts: the words of
// each level, and for each command its flags and those taking a value.
func tables(commands map[string]Command, groups map[string]Group, leaves []Leaf) (top string, subs map[string]string, flags, valued map[string]string) {
	top = strings.Join(slices.Sorted(maps.Keys(commands)), " ")
	subs = map[string]string{}
	for n, g := range groups {
		subs[n] = strings.Join(slices.Sorted(maps.Keys(g.Commands)), " ")
	}
	flags, valued = map[string]string{}, map[string]string{}
	for _, l := range leaves {
		var all, val []string
		for _, f := range l.Flags {
			all = append(all, "--"+f.Name)
			if f.Value != "" {
				val = append(val, "--"+f.Name)
			}
		}
		key := strings.Join(l.Path, " ")
		flags[key], valued[key] = strings.Join(append(all, "--help"), " "), strings.Join(val, " ")
	}
	return
}

func funcName(prog string) string { return "_" + strings.ReplaceAll(prog, "-", "_") }

func bashScript(prog string, commands map[string]Command, groups map[string]Group, leaves []Leaf) string {
	top, subs, flags, valued := tables(commands, groups, leaves)
	var b strings.Builder
	fn := funcName(prog)
	fmt.Fprintf(&b, "# bash completion of %s: source <(%s completion bash)\n", prog, prog)
	fmt.Fprintf(&b, "%s() {\n", fn)
	b.WriteString("\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" key=\"${COMP_WORDS[1]}\" first=2\n")
	b.WriteString("\tCOMPREPLY=()\n")
	fmt.Fprintf(&b, "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", top+" --help --version")
	b.WriteString("\tcase \"$key\" in\n")
	for _, g := range slices.Sorted(maps.Keys(subs)) {
		fmt.Fprintf(&b, "\t%s)\n\t\tif [ \"$COMP_CWORD\" -eq 2 ]; then\n\t\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\t\treturn\n\t\tfi\n\t\tkey=\"$key ${COMP_WORDS[2]}\" first=3 ;;\n", g, subs[g]+" --help")
	}
	b.WriteString("\tesac\n")
	b.WriteString("\tlocal flags= valued=\n\tcase \"$key\" in\n")
	for _, k := range slices.Sorted(maps.Keys(flags)) {
		fmt.Fprintf(&b, "\t%q) flags=%q valued=%q ;;\n", k, flags[k], " "+valued[k]+" ")
	}
	b.WriteString("\tesac\n")
	b.WriteString("\t# the value of a flag: file names (complete -o default)\n")
	b.WriteString("\tif [ \"$COMP_CWORD\" -gt \"$((first-1))\" ] && [[ \"$valued\" == *\" $prev \"* ]]; then\n\t\treturn\n\tfi\n")
	b.WriteString("\tif [[ \"$cur\" == -* || -z \"$cur\" ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\tfi\n")
	b.WriteString("}\n")
	fmt.Fprintf(&b, "complete -o bashdefault -o default -F %s %s\n", fn, prog)
	return b.String()
}

func zshScript(prog string, commands map[string]Command, groups map[string]Group, leaves []Leaf) string {
	top, subs, flags, valued := tables(commands, groups, leaves)
	var b strings.Builder
	fn := funcName(prog)
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion of %s: source <(%s completion zsh), or save it as _%s in a directory of $fpath\n", prog, prog, prog, prog)
	fmt.Fprintf(&b, "%s() {\n", fn)
	b.WriteString("\tlocal key=${words[2]} first=3 flags valued\n")
	fmt.Fprintf(&b, "\tif (( CURRENT == 2 )); then\n\t\tcompadd -- %s\n\t\treturn\n\tfi\n", top+" --help --version")
	b.WriteString("\tcase $key in\n")
	for _, g := range slices.Sorted(maps.Keys(subs)) {
		fmt.Fprintf(&b, "\t%s)\n\t\tif (( CURRENT == 3 )); then\n\t\t\tcompadd -- %s\n\t\t\treturn\n\t\tfi\n\t\tkey=\"$key ${words[3]}\" first=4 ;;\n", g, subs[g]+" --help")
	}
	b.WriteString("\tesac\n\tcase $key in\n")
	for _, k := range slices.Sorted(maps.Keys(flags)) {
		fmt.Fprintf(&b, "\t%q) flags=(%s) valued=%q ;;\n", k, flags[k], " "+valued[k]+" ")
	}
	b.WriteString("\tesac\n")
	b.WriteString("\tif (( CURRENT > first - 1 )) && [[ $valued == *\" ${words[CURRENT-1]} \"* ]]; then\n\t\t_files\n\t\treturn\n\tfi\n")
	b.WriteString("\tif [[ ${words[CURRENT]} == -* || -z ${words[CURRENT]} ]]; then\n\t\tcompadd -- $flags\n\telse\n\t\t_files\n\tfi\n")
	b.WriteString("}\n")
	fmt.Fprintf(&b, "if (( $+functions[compdef] )); then\n\tcompdef %s %s\nfi\n", fn, prog)
	return b.String()
}
