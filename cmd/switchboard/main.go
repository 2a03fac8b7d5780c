// Command switchboard is a self-hosted, ACS Call Automation-compatible call
// control server.
//
//	switchboard serve [-config FILE]       run the server
//	switchboard config check FILE          validate a configuration file
//	switchboard keygen                     print a new access key
//	switchboard user add|list|delete ...   manage communication users
//	switchboard number add|list|delete ... manage owned phone numbers
//	switchboard version                    print the version
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboard-oss/switchboard/internal/config"
	"github.com/switchboard-oss/switchboard/internal/server"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "config":
		if len(args) != 3 || args[1] != "check" {
			fmt.Fprintln(stderr, "usage: switchboard config check FILE")
			return 2
		}
		if _, err := config.Load(args[2]); err != nil {
			fmt.Fprintf(stderr, "%s is not valid:\n%v\n", args[2], err)
			return 1
		}
		fmt.Fprintf(stdout, "%s is valid\n", args[2])
		return 0
	case "keygen":
		b := make([]byte, 32)
		rand.Read(b)
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(b))
		return 0
	case "user", "number":
		return manage(args, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "switchboard", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  switchboard serve [-config FILE]
  switchboard config check FILE
  switchboard keygen
  switchboard user add [-config FILE] [-username NAME] [-display-name NAME]
  switchboard user list|delete [-config FILE] [USERNAME]
  switchboard number add|list|delete [-config FILE] [+E164]
  switchboard version
Settings come from the file and from SWITCHBOARD_* environment variables.
`)
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if fs.Parse(args) != nil {
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "configuration: %v\n", err)
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	if srv.CAFile != "" {
		log.Info("HTTPS uses a local CA", "ca", srv.CAFile, "hint", "NODE_EXTRA_CA_CERTS="+srv.CAFile)
	}
	go func() {
		<-ctx.Done()
		stop() // a second signal now kills the process
	}()
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped with an error", "error", err)
		return 1
	}
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// manage edits users and numbers in the database directly, so they can be
// created without a running server or editing files.
func manage(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	username := fs.String("username", "", "user name (default: a random id)")
	display := fs.String("display-name", "", "display name")
	if fs.Parse(args[2:]) != nil {
		return 2
	}
	cfg := config.Default()
	if *path != "" {
		var err error
		if cfg, err = config.Load(*path); err != nil {
			fmt.Fprintf(stderr, "configuration: %v\n", err)
			return 1
		}
	} else if err := config.ApplyEnv(&cfg, os.Environ()); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DataDir, cfg.ResourceID)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	arg := fs.Arg(0)
	switch args[0] + " " + args[1] {
	case "user add":
		u, err := st.CreateUser(ctx, *username, *display)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		out.Encode(u)
	case "user list":
		us, err := st.Users(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		out.Encode(us)
	case "user delete":
		if err := st.DeleteUser(ctx, arg); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	case "number add":
		if !config.IsE164(arg) {
			fmt.Fprintf(stderr, "%q is not an E.164 number\n", arg)
			return 1
		}
		n, err := st.AddNumber(ctx, store.PhoneNumber{Number: arg})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		out.Encode(n)
	case "number list":
		ns, err := st.Numbers(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		out.Encode(ns)
	case "number delete":
		if err := st.DeleteNumber(ctx, arg); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	default:
		usage(stderr)
		return 2
	}
	return 0
}
