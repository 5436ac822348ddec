package cli

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// Version returns the line that prog's version command prints: the main
// module's version from the binary's build information ("(devel)" for a
// build from a work tree, with the commit and "+dirty" when the build
// recorded them) and the Go version that built it.
func Version(prog string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return prog + " (unknown version)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	line := prog + " " + version
	if rev != "" {
		line += " " + rev[:min(len(rev), 12)] + dirty
	}
	return line + " " + bi.GoVersion
}

// VersionCommand is the version command of prog: it prints Version(prog)
// to stdout. Dispatch also runs it for --version and -version.
func VersionCommand(prog string) Command {
	return func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 1 && isHelp(args[0]) {
			_, err := fmt.Fprintf(HelpOutput(stderr), "usage: %s version\n\nprints the module version, commit and Go version of %s (also: %s --version)\n", prog, prog, prog)
			return err
		}
		if len(args) > 0 {
			return Usagef("version takes no arguments")
		}
		_, err := fmt.Fprintln(stdout, Version(prog))
		return err
	}
}
