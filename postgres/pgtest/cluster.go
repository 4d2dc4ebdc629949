package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cluster is a PostgreSQL server of the test's own, on a free loopback
// port, with fsync off. The test may stop, freeze and start it at will; it
// is removed when the test ends.
type Cluster struct {
	// URL is the cluster's postgres database, as the superuser postgres.
	URL string

	bin  string // the directory of initdb and pg_ctl
	dir  string // data/, the log and the socket
	port int
	cred *syscall.Credential // the postgres user's, when running as root
}

// StartCluster creates a cluster with PostgreSQL's programs (Debian's,
// under /usr/lib/postgresql/*/bin, or initdb on PATH) and starts it. It
// skips the test if they are missing and EnvURL is unset, and fails it if
// they are missing while EnvURL is set. As root, the cluster runs as the
// postgres user, since PostgreSQL refuses to run as root.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := findBin()
	if err != nil {
		if os.Getenv(EnvURL) == "" {
			t.Skipf("no PostgreSQL programs to start a cluster of the test's own (%v); install PostgreSQL (Debian: apt-get install postgresql) or set %s", err, EnvURL)
		}
		t.Fatalf("%s is set, but PostgreSQL's programs, needed to start a cluster the test can stop, are missing: %v", EnvURL, err)
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		c.cred, err = credentialOf("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root, PostgreSQL needs another user: %v", err)
		}
	}
	// Not t.TempDir: its parent is private to root, and the server may not be.
	c.dir, err = os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(c.dir) })
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	c.port, err = freePort()
	if err != nil {
		t.Fatal(err)
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	if out, err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	c.Start(t)
	t.Cleanup(func() { _, _ = c.run("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w") })
	return c
}

// Start starts the cluster and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100", c.port, c.dir)
	if out, err := c.run("pg_ctl", "start", "-D", c.data(), "-l", c.log(), "-w", "-t", "60", "-o", opts); err != nil {
		t.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, c.Log())
	}
}

// Stop shuts the cluster down as an operator would (pg_ctl stop -m fast):
// open connections are told that the server is going away, and new ones
// are refused.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "stop", "-D", c.data(), "-m", "fast", "-w"); err != nil {
		t.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

// Freeze stops every process of the cluster with SIGSTOP, as a host that
// hangs or a network that drops packets would: connections are accepted by
// the kernel, but nothing answers. Thaw undoes it.
func (c *Cluster) Freeze(t testing.TB) { t.Helper(); c.signal(t, syscall.SIGSTOP) }

// Thaw resumes a frozen cluster.
func (c *Cluster) Thaw(t testing.TB) { t.Helper(); c.signal(t, syscall.SIGCONT) }

func (c *Cluster) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		t.Fatalf("pgtest: the cluster is not running: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("pgtest: postmaster.pid: %v", err)
	}
	// A signal takes effect some time after kill returns: the postmaster
	// may still fork a backend after SIGSTOP. Signal until every process
	// of the cluster has had it.
	done := map[int]bool{}
	for range 100 {
		pending := false
		for _, p := range append([]int{pid}, children(pid)...) {
			if !done[p] {
				if err := syscall.Kill(p, sig); err != nil && err != syscall.ESRCH {
					t.Fatalf("pgtest: kill %d: %v", p, err)
				}
				done[p] = true
				pending = true
			}
			if sig == syscall.SIGSTOP && state(p) != "T" && state(p) != "" {
				pending = true
			}
		}
		if !pending {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pgtest: the cluster's processes did not all take signal %v", sig)
}

// state is a process's state letter from /proc, such as "T" for stopped,
// or "" if it is gone.
func state(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// Log returns what the server has logged.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.log())
	return string(b)
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) log() string  { return filepath.Join(c.dir, "log") }

// run runs one of PostgreSQL's programs as the cluster's user.
func (c *Cluster) run(program string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, program), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// findBin finds the newest of Debian's PostgreSQL versions, or initdb on PATH.
func findBin() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1]), nil
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("no /usr/lib/postgresql/*/bin/initdb, and %w", err)
	}
	return filepath.Dir(p), nil
}

// version is the major version in /usr/lib/postgresql/NN/bin/initdb.
func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func credentialOf(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, child)
		}
	}
	return out
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
