package mongodb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// socketInodes lists the inodes of this process's open sockets.
func socketInodes(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			out[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	return out
}

// tcpListeners lists the inodes of listening TCP sockets (IPv4 and IPv6).
func tcpListeners(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && fs[3] == "0A" { // LISTEN
				out[fs[9]] = true
			}
		}
	}
	return out
}

// TestEmbeddedReachableOnlyByItsUser: the embedded server, which has no
// authentication, listens on no TCP port, only on a Unix socket (0600) in
// its 0700 data directory; this process connects through it, another OS
// user cannot (the positive control: the same client as this user can).
func TestEmbeddedReachableOnlyByItsUser(t *testing.T) {
	before := socketInodes(t)
	dir := filepath.Join(t.TempDir(), "db")
	e, err := StartEmbedded(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	listening := tcpListeners(t)
	for ino := range socketInodes(t) {
		if !before[ino] && listening[ino] {
			t.Errorf("the embedded server opened a listening TCP socket (inode %s)", ino)
		}
	}
	if !strings.HasPrefix(e.URI(), "mongodb://%2F") {
		t.Fatalf("URI %s is not a Unix socket", e.URI())
	}
	sock := filepath.Join(dir, "mongod.sock")
	st, err := os.Stat(sock)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v %v", sock, st, err)
	}
	if d, err := os.Stat(dir); err != nil || d.Mode().Perm() != 0o700 {
		t.Fatalf("data dir %s: %v %v", dir, d, err)
	}
	cl, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(context.Background())
	if err := cl.Database("admin").RunCommand(context.Background(), bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Fatalf("this process cannot reach its own server: %v", err)
	}

	// Another OS user (nobody) tries to open the socket; the same client as
	// this user is the positive control.
	if os.Geteuid() != 0 {
		t.Fatalf("this test switches to another user and needs root (CI runs as root)")
	}
	connect := `import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("refused"); sys.exit(0)
print("connected")`
	for _, c := range []struct {
		who  []string
		want string
	}{
		{nil, "connected"},
		{[]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}, "refused"},
	} {
		args := append(append([]string{}, c.who...), "/usr/bin/python3", "-c", connect, sock)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != c.want {
			t.Errorf("%v: %q %v, want %q", c.who, out, err, c.want)
		}
	}
}

// TestEmbeddedLongPath: a data directory whose socket path would be too
// long for a Unix socket gets its socket in a private temporary folder,
// removed when the server stops.
func TestEmbeddedLongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 90), "db")
	e, err := StartEmbedded(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sockDir := e.sockDir
	if sockDir == "" {
		t.Fatalf("socket in %s despite the long path", dir)
	}
	if st, err := os.Stat(sockDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("socket folder: %v %v", st, err)
	}
	cl, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Database("admin").RunCommand(context.Background(), bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Fatal(err)
	}
	cl.Disconnect(context.Background())
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sockDir); !os.IsNotExist(err) {
		t.Errorf("socket folder %s left behind", sockDir)
	}
}
