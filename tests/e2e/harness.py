"""ember end-to-end test harness.

What it gives a test:

  * servers: EmberServer (build/emberd), RedisServer (a real redis-server, the
    reference) and ExternalServer (anything already listening, named by
    EMBER_HOST/EMBER_PORT).  start_server() picks the target the environment
    asks for: EMBER_HOST/EMBER_PORT > EMBER_TARGET=redis > ember.
  * a raw RESP2/RESP3 client (Client) that writes exact bytes, pipelines, and
    parses every reply into a Node (type byte, payload, exact raw bytes) from
    which typed Python values are made: Simple, Error, bytes (bulk), None
    (null), int, Double, bool, Verbatim, BigNumber, Map, Set, Push, list.
  * helpers to run redis-cli and to get a redis-py client.

Invariants the harness keeps, whatever happens to the test:

  * every server it starts runs in its own process group and session, with a
    unique name (embertest-<pid>-<n>) and a private temporary directory;
  * stop() sends SIGTERM and waits up to 10 s; past that it SIGKILLs the whole
    process group and reports the failure (ServerStopError), as it does for a
    server that died early, exited non-zero or left processes behind;
  * at stop, and at exit (atexit, SIGTERM, SIGHUP, SIGINT), the temporary
    directory and the shared-memory arenas /dev/shm/<name>-* are removed:
    ember's arenas outlive its processes by design, so nobody else will.
    Arenas of earlier runs whose creator pid is dead are swept at import.
    EMBER_KEEP_TMP=1 keeps directories and arenas (and skips the sweep) for
    a post-mortem.

Standard library only (redis-py is optional, for redis_py()); run it with
Debian's /usr/bin/python3.
"""

import atexit
import glob
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHM_DIR = "/dev/shm"
NAME_PREFIX = "embertest"
STOP_TIMEOUT = 10.0
# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print.
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|"
                          r"SUMMARY: (Address|Undefined|Leak)\w*Sanitizer|"
                          r"\bruntime error: ")
START_TIMEOUT = float(os.environ.get("EMBER_START_TIMEOUT", "20"))


# --------------------------------------------------------------------------
# errors

class HarnessError(Exception):
    """Base class of the harness's own failures (not server replies)."""


class ServerStartError(HarnessError):
    """A server did not become ready; the message carries the log tail."""


class ServerStopError(HarnessError):
    """A server did not stop cleanly (timeout, crash, leftovers)."""


class ProtocolError(HarnessError):
    """The server sent bytes that are not valid RESP."""


class ConnectionClosed(HarnessError):
    """The server closed the connection while a reply was expected."""


class ReplyError(Exception):
    """Raised by Client.execute() for an error reply; .reply is the Error."""

    def __init__(self, reply):
        super().__init__(reply.text)
        self.reply = reply


# --------------------------------------------------------------------------
# typed reply values
#
# Bulk strings are plain bytes and arrays plain lists; every other RESP type
# has its own class so that a test can tell `+OK` from `$2 OK`, a RESP3 set
# from an array, a double from a bulk.  Compare with `type(x) is bytes`
# where the difference matters (Simple and Error are bytes subclasses).

class Simple(bytes):
    """A simple string: +OK."""

    def __repr__(self):
        return "Simple(%s)" % bytes.__repr__(self)


class Error(bytes):
    """An error reply: -ERR ... (or a RESP3 blob error !n)."""

    @property
    def text(self):
        return self.decode("utf-8", "replace")

    @property
    def code(self):
        """The first word: ERR, WRONGTYPE, NOSCRIPT..."""
        return self.split(b" ", 1)[0].decode("utf-8", "replace")

    def __repr__(self):
        return "Error(%s)" % bytes.__repr__(self)


class Double(float):
    """A RESP3 double: ,1.5 ; .raw keeps the exact text (",inf", ",1e+20")."""

    raw = b""

    def __repr__(self):
        return "Double(%s)" % self.raw.decode()


class BigNumber(int):
    """A RESP3 big number: (12345..."""

    def __repr__(self):
        return "BigNumber(%d)" % int(self)


class Verbatim(bytes):
    """A RESP3 verbatim string: =15\\r\\ntxt:Some string; .format is b'txt'."""

    format = b""

    def __repr__(self):
        return "Verbatim(%s:%s)" % (self.format.decode(), bytes.__repr__(self))


class Map(dict):
    """A RESP3 map.  Keys that are lists are turned into tuples."""

    def __repr__(self):
        return "Map(%s)" % dict.__repr__(self)


class Set(list):
    """A RESP3 set, kept as a list (members may repeat or be unhashable)."""

    def __repr__(self):
        return "Set(%s)" % list.__repr__(self)


class Push(list):
    """A RESP3 push message (pub/sub, invalidation)."""

    def __repr__(self):
        return "Push(%s)" % list.__repr__(self)


# --------------------------------------------------------------------------
# RESP parsing

class Node(object):
    """One parsed reply: t is the type byte as a str ('+', '$', '*', ...),
    v the payload (bytes for scalars, a list of Nodes for aggregates, maps
    flattened as k1 v1 k2 v2, None for nulls), raw the exact bytes on the
    wire, attrs the RESP3 attribute Node that preceded it (or None)."""

    __slots__ = ("t", "v", "raw", "attrs")

    def __init__(self, t, v, raw, attrs=None):
        self.t = t
        self.v = v
        self.raw = raw
        self.attrs = attrs

    def __repr__(self):
        return "Node(%r)" % (self.raw[:200],)

    @property
    def is_error(self):
        return self.t in "-!"

    def py(self):
        """The typed Python value of this reply."""
        return to_python(self)


_AGG = {"*", "%", "~", ">", "|"}
_SIMPLE_LINE = {"+", "-", ":", "_", ",", "#", "("}
_BLOB = {"$", "!", "="}
_INT_RE = re.compile(rb"-?[0-9]+\Z")


class _Incomplete(Exception):
    """More bytes are needed; .need is a lower bound on the buffer length
    that can complete the reply (0 when unknown)."""

    def __init__(self, need=0):
        super().__init__()
        self.need = need


class Reader(object):
    """Incremental RESP2/RESP3 parser.  feed() bytes, then get() returns the
    next complete Node or None when more bytes are needed."""

    MAX_BULK = 1 << 33

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0
        # Buffer length below which the next reply cannot be complete: a
        # big bulk arriving in many pieces is then not parsed again (with
        # the aggregate around it) at every piece.
        self.need = 0

    def feed(self, data):
        if self.pos > 65536 and self.pos * 2 > len(self.buf):
            del self.buf[:self.pos]
            self.need = max(0, self.need - self.pos)
            self.pos = 0
        self.buf += data

    def pending(self):
        """Bytes received but not yet parsed."""
        return len(self.buf) - self.pos

    def get(self):
        start = self.pos
        if len(self.buf) < self.need:
            return None
        try:
            node, end = self._parse(start)
        except _Incomplete as e:
            self.need = e.need
            return None
        self.need = 0
        self.pos = end
        return node

    def _line(self, pos):
        end = self.buf.find(b"\r\n", pos)
        if end < 0:
            raise _Incomplete()
        return end

    def _parse(self, pos):
        buf = self.buf
        if pos >= len(buf):
            raise _Incomplete()
        t = chr(buf[pos])
        eol = self._line(pos + 1)
        line = bytes(buf[pos + 1:eol])
        nxt = eol + 2
        if t in _SIMPLE_LINE:
            if t == ":" or t == "(":
                if not _INT_RE.match(line):
                    raise ProtocolError("bad integer %r" % line)
            elif t == "_":
                if line:
                    raise ProtocolError("bad null %r" % line)
                line = None
            elif t == "#":
                if line not in (b"t", b"f"):
                    raise ProtocolError("bad boolean %r" % line)
            return Node(t, line, bytes(buf[pos:nxt])), nxt
        if t in _BLOB:
            try:
                n = int(line)
            except ValueError:
                raise ProtocolError("bad length %r for %s" % (line, t))
            if n == -1 and t == "$":
                return Node(t, None, bytes(buf[pos:nxt])), nxt
            if n < 0 or n > self.MAX_BULK:
                raise ProtocolError("bad length %d for %s" % (n, t))
            if len(buf) < nxt + n + 2:
                raise _Incomplete(nxt + n + 2)
            if buf[nxt + n:nxt + n + 2] != b"\r\n":
                raise ProtocolError("%s payload of %d bytes not followed by "
                                    "CRLF" % (t, n))
            payload = bytes(buf[nxt:nxt + n])
            end = nxt + n + 2
            return Node(t, payload, bytes(buf[pos:end])), end
        if t in _AGG:
            try:
                n = int(line)
            except ValueError:
                raise ProtocolError("bad aggregate length %r for %s" % (line, t))
            if n == -1 and t == "*":
                return Node(t, None, bytes(buf[pos:nxt])), nxt
            if n < 0:
                raise ProtocolError("bad aggregate length %d for %s" % (n, t))
            count = n * 2 if t in ("%", "|") else n
            items = []
            p = nxt
            for _ in range(count):
                child, p = self._parse(p)
                items.append(child)
            if t == "|":
                # An attribute describes the reply that follows it.
                attrs = Node("|", items, bytes(buf[pos:p]))
                node, end = self._parse(p)
                node.attrs = attrs
                node.raw = bytes(buf[pos:end])
                return node, end
            return Node(t, items, bytes(buf[pos:p])), p
        raise ProtocolError("unknown type byte %r at %r" %
                            (t, bytes(buf[pos:pos + 40])))


def _freeze(v):
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple((_freeze(k), _freeze(x)) for k, x in v.items())
    return v


def to_python(node):
    """Convert a Node into its typed Python value (see the classes above)."""
    t, v = node.t, node.v
    if t == "$":
        return v
    if t == "+":
        return Simple(v)
    if t == "-" or t == "!":
        return Error(v)
    if t == ":":
        return int(v)
    if t == "*":
        return None if v is None else [to_python(x) for x in v]
    if t == "_":
        return None
    if t == ",":
        text = v.decode()
        low = text.lower()
        if low in ("inf", "+inf"):
            f = Double(float("inf"))
        elif low == "-inf":
            f = Double(float("-inf"))
        elif low in ("nan", "-nan"):
            f = Double(float("nan"))
        else:
            f = Double(float(text))
        f.raw = v
        return f
    if t == "#":
        return v == b"t"
    if t == "(":
        return BigNumber(int(v))
    if t == "=":
        if len(v) < 4 or v[3:4] != b":":
            raise ProtocolError("verbatim string without format: %r" % v[:20])
        s = Verbatim(v[4:])
        s.format = v[:3]
        return s
    if t == "%":
        m = Map()
        for i in range(0, len(v), 2):
            m[_freeze(to_python(v[i]))] = to_python(v[i + 1])
        return m
    if t == "~":
        return Set(to_python(x) for x in v)
    if t == ">":
        return Push(to_python(x) for x in v)
    raise ProtocolError("cannot convert type %r" % t)


def parse_all(data):
    """Parse a whole byte string into a list of Nodes (for tests of the
    parser itself); raises ProtocolError if bytes are left over."""
    r = Reader()
    r.feed(data)
    out = []
    while True:
        n = r.get()
        if n is None:
            break
        out.append(n)
    if r.pending():
        raise ProtocolError("%d trailing bytes" % r.pending())
    return out


# --------------------------------------------------------------------------
# encoding

def to_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, bytearray):
        return bytes(a)
    if isinstance(a, str):
        return a.encode("utf-8")
    if isinstance(a, bool):
        raise TypeError("bool is not a Redis argument")
    if isinstance(a, int):
        return b"%d" % a
    if isinstance(a, float):
        return repr(a).encode()
    raise TypeError("cannot encode %r" % (a,))


def encode_command(*args):
    """The multibulk encoding of one command."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = to_bytes(a)
        parts.append(b"$%d\r\n" % len(b))
        parts.append(b)
        parts.append(b"\r\n")
    return b"".join(parts)


# --------------------------------------------------------------------------
# the raw client

class Client(object):
    """A raw RESP client on one TCP connection.

    call(*args)        -> typed reply (errors are returned as Error values)
    execute(*args)     -> typed reply, raises ReplyError on an error reply
    call_node(*args)   -> the Node (type, payload, exact raw bytes)
    pipeline(cmds)     -> typed replies of all cmds, sent in one write
    send(*args) / send_raw(bytes) / read() / read_node(): the pieces

    resp=3 sends HELLO 3 at connect; its reply is kept in .hello.  Replies
    are returned in arrival order: in RESP3 a push message is just the next
    reply (read_node() hands it out like any other).
    """

    def __init__(self, host="127.0.0.1", port=6379, resp=2, timeout=10.0,
                 hello=True):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reader = Reader()
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.resp = 2
        self.hello = None
        if resp == 3 and hello:
            r = self.call("HELLO", 3)
            if isinstance(r, Error):
                raise ReplyError(r)
            self.hello = r
            self.resp = 3

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def settimeout(self, timeout):
        self.timeout = timeout
        self.sock.settimeout(timeout)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *args):
        self.sock.sendall(encode_command(*args))

    def _fill(self):
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise socket.timeout("no reply from %s:%d within %.1fs" %
                                 (self.host, self.port, self.timeout))
        if not data:
            raise ConnectionClosed("connection closed by %s:%d" %
                                   (self.host, self.port))
        self.reader.feed(data)

    def read_node(self):
        while True:
            node = self.reader.get()
            if node is not None:
                return node
            self._fill()

    def read(self):
        return to_python(self.read_node())

    def call_node(self, *args):
        self.send(*args)
        return self.read_node()

    def call(self, *args):
        self.send(*args)
        return self.read()

    def execute(self, *args):
        r = self.call(*args)
        if isinstance(r, Error):
            raise ReplyError(r)
        return r

    def pipeline_nodes(self, commands):
        self.sock.sendall(b"".join(encode_command(*c) for c in commands))
        return [self.read_node() for _ in commands]

    def pipeline(self, commands):
        return [to_python(n) for n in self.pipeline_nodes(commands)]

    def read_raw_until_closed(self, timeout=2.0):
        """Everything the server sends until it closes the connection (for
        protocol-error tests); raises socket.timeout if it never closes."""
        self.sock.settimeout(timeout)
        data = bytes(self.reader.buf[self.reader.pos:])
        self.reader = Reader()
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def is_closed(self, timeout=1.0):
        """True when the server closed the connection (EOF or reset) within
        timeout with no further bytes."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)


def flush_all(client, ndb=16):
    """FLUSHALL, or FLUSHDB on each of ndb databases where FLUSHALL is not
    available; leaves the client in db 0.  Raises ReplyError if neither
    works."""
    r = client.call("FLUSHALL")
    if not isinstance(r, Error):
        return
    for db in range(ndb):
        client.execute("SELECT", db)
        client.execute("FLUSHDB")
    client.execute("SELECT", 0)


def ping(host, port, timeout=1.0):
    """True when host:port answers PING with +PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = s.recv(256)
                if not chunk:
                    return False
                data += chunk
            return data == b"+PONG\r\n"
    except OSError:
        return False


# --------------------------------------------------------------------------
# ports, names, process bookkeeping

_counter = itertools.count(1)
_live = set()
_live_lock = threading.Lock()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago.  Servers that
    fail to bind are retried on another port by start()."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_name():
    return "%s-%d-%d" % (NAME_PREFIX, os.getpid(), next(_counter))


def shm_files(name):
    """The shared-memory files an ember instance called name left behind."""
    return sorted(glob.glob(os.path.join(SHM_DIR, glob.escape(name) + "-*")) +
                  glob.glob(os.path.join(SHM_DIR, glob.escape(name))))


def remove_shm(name):
    for path in shm_files(name):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_shm():
    """Remove /dev/shm/embertest-<pid>-* whose creating harness is dead
    (a run that was SIGKILLed could not clean up after itself)."""
    if os.environ.get("EMBER_KEEP_TMP"):
        return
    pat = re.compile(r"^%s-(\d+)-\d+" % NAME_PREFIX)
    for path in glob.glob(os.path.join(SHM_DIR, NAME_PREFIX + "-*")):
        m = pat.match(os.path.basename(path))
        if m and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(path)
            except OSError:
                pass


def group_members(pgid):
    """Pids of live (non-zombie) processes in process group pgid."""
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, "rb") as f:
                data = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and ')'.
        rest = data[data.rfind(b")") + 2:].split()
        if len(rest) < 3:
            continue
        if rest[0] == b"Z" or int(rest[2]) != pgid:
            continue
        out.append(int(stat.split("/")[2]))
    return out


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 65536))
            data = f.read()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e.strerror)
    text = data.decode("utf-8", "replace").splitlines()[-lines:]
    return "\n".join(text) if text else "(empty)"


try:
    import ctypes
    _libc = ctypes.CDLL(None, use_errno=True)
except Exception:  # no ctypes: servers just lack the parent-death signal
    _libc = None


def _set_pdeathsig():
    # Runs in the child between fork and exec, so it must not import or
    # allocate much: if the harness dies (even by SIGKILL), the kernel sends
    # SIGTERM to the server.
    if _libc is not None:
        _libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG


def _cleanup_all():
    with _live_lock:
        servers = list(_live)
    for s in servers:
        try:
            s.stop(timeout=5.0)
        except Exception as e:  # at exit: report and go on
            sys.stderr.write("harness: cleanup of %s: %s\n" % (s, e))


def _on_signal(signum, frame):
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_cleanup_all)
if threading.current_thread() is threading.main_thread():
    for _sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(_sig) in (signal.SIG_DFL, None):
            signal.signal(_sig, _on_signal)
sweep_stale_shm()


# --------------------------------------------------------------------------
# servers

class Server(object):
    """Common part of every target.  host/port always set once started."""

    kind = "?"
    managed = True          # False for a server we did not start

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.dir = None
        self.failures = []
        self.exit_status = None
        self.keep_files = False

    def __repr__(self):
        return "<%s %s:%s>" % (self.kind, self.host, self.port)

    def __enter__(self):
        if self.proc is None and self.managed:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    # -- clients
    def client(self, resp=2, timeout=10.0, **kw):
        return Client(self.host, self.port, resp=resp, timeout=timeout, **kw)

    def ping(self):
        return ping(self.host, self.port)

    def cli(self, *args, **kw):
        return redis_cli(self.host, self.port, *args, **kw)

    def redis_py(self, **kw):
        import redis  # Debian's python3-redis
        return redis.Redis(host=self.host, port=self.port, **kw)

    # -- lifecycle, overridden by managed servers
    def command_line(self):
        raise NotImplementedError

    def log_files(self):
        return []

    def log_tail(self, lines=40):
        parts = []
        for path in self.log_files():
            if os.path.exists(path):
                parts.append("--- %s (last %d lines) ---\n%s" %
                             (path, lines, tail(path, lines)))
        return "\n".join(parts) if parts else "(no log)"

    def _make_dir(self):
        base = os.environ.get("EMBER_TEST_TMPDIR") or None
        if base:
            os.makedirs(base, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="%s." % self.name, dir=base)

    def start(self, timeout=None, retries=3):
        """Start and wait until PING answers PONG.  Raises ServerStartError
        (with the log tail) when the server exits early or is not ready in
        time; a port found busy is retried on another port."""
        timeout = START_TIMEOUT if timeout is None else timeout
        for attempt in range(retries):
            if self.dir is None:
                self._make_dir()
            self.port = self.fixed_port or free_port()
            cmd = self.command_line()
            out = open(os.path.join(self.dir, "stdout.log"), "ab")
            try:
                self.proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, cwd=self.dir,
                    start_new_session=True, preexec_fn=_set_pdeathsig,
                    env=self.env)
            except OSError as e:
                self._discard()
                raise ServerStartError("cannot run %s: %s" % (cmd[0], e))
            finally:
                out.close()
            with _live_lock:
                _live.add(self)
            try:
                self._wait_ready(timeout)
                return self
            except ServerStartError as e:
                busy = "already in use" in self.log_tail(80).lower()
                self._kill_group()
                if busy and attempt + 1 < retries and not self.fixed_port:
                    continue
                self._discard()
                raise e
        raise ServerStartError("unreachable")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            status = self.proc.poll()
            if status is not None:
                raise ServerStartError(
                    "%s exited with status %d before answering PING on "
                    "port %d\ncommand: %s\n%s" %
                    (self.kind, status, self.port, " ".join(self.command_line()),
                     self.log_tail()))
            if ping(self.host, self.port, timeout=0.5):
                if self._ready_extra():
                    return
            if time.monotonic() > deadline:
                raise ServerStartError(
                    "%s (pid %d) did not answer PING on port %d within %.0fs\n"
                    "command: %s\n%s" %
                    (self.kind, self.proc.pid, self.port, timeout,
                     " ".join(self.command_line()), self.log_tail()))
            time.sleep(0.02)

    def _ready_extra(self):
        return True

    def _kill_group(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._kill_leftovers()

    def _kill_leftovers(self):
        """SIGKILL whatever is left in the server's process group; returns
        the pids that were still there."""
        if self.proc is None:
            return []
        left = group_members(self.proc.pid)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return left

    def _discard(self):
        """Remove everything the server left on disk and in /dev/shm."""
        with _live_lock:
            _live.discard(self)
        self._remove_files()

    def _remove_files(self):
        if self.keep_files:
            return
        if self.dir and not os.environ.get("EMBER_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def sanitizer_reports(self, context=6):
        """ASan/UBSan/LSan reports found in the server's logs (its stderr
        goes to stdout.log), each as a few lines of text; [] when none."""
        out = []
        for path in self.log_files():
            try:
                with open(path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            for i, line in enumerate(lines):
                if SANITIZER_RE.search(line):
                    out.append("%s:%d:\n%s" % (os.path.basename(path), i + 1,
                               "\n".join(lines[i:i + context])))
        return out

    def stop(self, timeout=STOP_TIMEOUT, check=True, keep_files=False):
        """SIGTERM, wait up to timeout, else SIGKILL the process group.
        Cleans up in every case; with check=True raises ServerStopError
        when the stop was not clean (timeout, died earlier, non-zero exit,
        processes left in the group, a sanitizer report in the logs).
        keep_files=True keeps the directory and the arenas (restart tests:
        see EmberServer.successor(), which takes them over); the server is
        forgotten by the harness either way."""
        if self.proc is None:
            return None
        self.keep_files = keep_files
        problems = []
        status = self.proc.poll()
        if status is not None:
            problems.append("%s died before stop() (status %d)" %
                            (self.kind, status))
        else:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                status = self.proc.wait(timeout)
                if status != 0:
                    problems.append("%s exited with status %d on SIGTERM" %
                                    (self.kind, status))
            except subprocess.TimeoutExpired:
                problems.append("%s (pid %d) still running %.0fs after "
                                "SIGTERM: SIGKILLed its process group" %
                                (self.kind, self.proc.pid, timeout))
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                status = self.proc.wait(10)
        # Workers may take a moment to follow the supervisor out.
        deadline = time.monotonic() + 2.0
        while group_members(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self._kill_leftovers()
        if left:
            problems.append("processes left in the group after the %s "
                            "exited: %s (SIGKILLed)" % (self.kind, left))
        self.exit_status = status
        reports = self.sanitizer_reports()
        if reports:
            problems.append("sanitizer reports in the logs:\n" +
                            "\n".join(reports))
        logs = self.log_tail() if problems else ""
        self.proc = None
        self._discard()
        self.keep_files = False
        if problems:
            self.failures.extend(problems)
            if check:
                raise ServerStopError("; ".join(problems) + "\n" + logs)
        return status

    def kill(self, sig=signal.SIGKILL):
        """Send sig to the main process only (crash tests)."""
        os.kill(self.proc.pid, sig)


class EmberServer(Server):
    """build/emberd (EMBER_BUILD, relative to the repo root) in the
    foreground, with a unique --name so its /dev/shm arenas are ours."""

    kind = "ember"

    def __init__(self, workers=1, name=None, args=(), binary=None, port=None,
                 env=None, workdir=None):
        super().__init__()
        self.workers = workers
        self.name = name or unique_name()
        self.args = list(args)
        self.binary = binary or ember_binary()
        self.fixed_port = port
        self.env = env
        self.dir = workdir      # None: a fresh temporary directory at start

    def successor(self, workers=None, args=None, port=None):
        """A new (not started) EmberServer with this one's name, directory
        and settings, for restart tests: stop this one with
        stop(keep_files=True) first.  The successor owns the directory and
        the arenas from then on (its stop() removes them)."""
        if workers is None:
            workers = self.workers
        return EmberServer(workers=workers, name=self.name,
                           args=self.args if args is None else args,
                           binary=self.binary, port=port, env=self.env,
                           workdir=self.dir)

    def tool(self, name):
        """Path of another program of the same build (emberctl,
        ember-arena)."""
        return os.path.join(os.path.dirname(self.binary), name)

    def ctl(self, *args, timeout=30):
        """Run `emberctl -d DIR args...`; returns the CompletedProcess
        (text)."""
        return subprocess.run([self.tool("emberctl"), "-d", self.dir] +
                              [str(a) for a in args], capture_output=True,
                              text=True, timeout=timeout)

    def status(self):
        """`emberctl status --json`, parsed; raises HarnessError when
        emberctl fails."""
        import json
        r = self.ctl("status", "--json")
        if r.returncode != 0:
            raise HarnessError("emberctl status failed (%d): %s%s" %
                               (r.returncode, r.stdout, r.stderr))
        return json.loads(r.stdout)

    def worker_pids(self):
        """{shard: pid} of the workers, from emberctl status."""
        return {w["shard"]: w["pid"] for w in self.status()["workers"]}

    def log_text(self):
        """The whole of emberd.log ('' when there is none)."""
        try:
            with open(os.path.join(self.dir, "emberd.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def command_line(self):
        return [self.binary, "--port", str(self.port), "--bind", self.host,
                "--workers", str(self.workers), "--dir", self.dir,
                "--name", self.name, "--loglevel", "verbose",
                "--logfile", os.path.join(self.dir, "emberd.log"),
                "--pidfile", os.path.join(self.dir, "emberd.pid"),
                # Arenas in /dev/shm, where remove_shm() finds them, even
                # on a machine with a hugetlbfs mount (unit tests cover it).
                "--hugepages", "off"] + self.args

    def start(self, timeout=None, retries=3):
        if not os.access(self.binary, os.X_OK):
            raise ServerStartError("%s is not built (run `make`, or set "
                                   "EMBER_BUILD; EMBER_TARGET=redis runs "
                                   "against redis-server)" % self.binary)
        return super().start(timeout, retries)

    def _ready_extra(self):
        # Every worker accepts on the port (SO_REUSEPORT) and the kernel
        # picks one per connection: ask a few fresh connections so that a
        # worker still starting is not missed.
        return all(ping(self.host, self.port, 2.0)
                   for _ in range(2 * max(1, self.workers)))

    def log_files(self):
        if not self.dir:
            return []
        return [os.path.join(self.dir, "emberd.log"),
                os.path.join(self.dir, "stdout.log")]

    def shm_files(self):
        return shm_files(self.name)

    def _remove_files(self):
        if self.keep_files:
            return
        if not os.environ.get("EMBER_KEEP_TMP"):
            remove_shm(self.name)
        super()._remove_files()


class RedisServer(Server):
    """A real redis-server (REDIS_SERVER, default redis-server on PATH):
    no persistence, foreground, DEBUG allowed from localhost."""

    kind = "redis"

    def __init__(self, args=(), binary=None, port=None, env=None):
        super().__init__()
        self.name = unique_name().replace(NAME_PREFIX, "redistest", 1)
        self.args = list(args)
        self.binary = binary or os.environ.get("REDIS_SERVER") or \
            shutil.which("redis-server") or "/usr/bin/redis-server"
        self.fixed_port = port
        self.env = env

    def command_line(self):
        return [self.binary, "--port", str(self.port), "--bind", self.host,
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--daemonize", "no", "--enable-debug-command", "local",
                "--logfile", os.path.join(self.dir, "redis.log")] + self.args

    def log_files(self):
        if not self.dir:
            return []
        return [os.path.join(self.dir, "redis.log"),
                os.path.join(self.dir, "stdout.log")]


class ExternalServer(Server):
    """A server somebody else runs (EMBER_HOST/EMBER_PORT): never started or
    stopped by us; tests that need to restart a server skip on it."""

    kind = "external"
    managed = False

    def __init__(self, host, port):
        super().__init__()
        self.host = host
        self.port = port
        self.name = "external"

    def start(self, timeout=None, retries=1):
        timeout = 5.0 if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not ping(self.host, self.port):
            if time.monotonic() > deadline:
                raise ServerStartError("nothing answers PING at %s:%d "
                                       "(EMBER_HOST/EMBER_PORT)" %
                                       (self.host, self.port))
            time.sleep(0.1)
        return self

    def stop(self, timeout=STOP_TIMEOUT, check=True, keep_files=False):
        return None


def ember_binary():
    build = os.environ.get("EMBER_BUILD") or "build"
    if not os.path.isabs(build):
        build = os.path.join(REPO, build)
    return os.path.join(build, "emberd")


def target_kind():
    """'external' when EMBER_PORT (or EMBER_HOST) is set, else EMBER_TARGET
    ('ember' by default, or 'redis')."""
    if os.environ.get("EMBER_PORT") or os.environ.get("EMBER_HOST"):
        return "external"
    kind = os.environ.get("EMBER_TARGET", "ember").strip().lower() or "ember"
    if kind not in ("ember", "redis"):
        raise HarnessError("EMBER_TARGET must be 'ember' or 'redis', not %r"
                           % kind)
    return kind


def target_description():
    kind = target_kind()
    if kind == "external":
        return "external server %s:%s" % (os.environ.get("EMBER_HOST",
                                                         "127.0.0.1"),
                                          os.environ.get("EMBER_PORT", "6379"))
    if kind == "redis":
        return "redis-server (EMBER_TARGET=redis)"
    return "ember (%s)" % os.path.relpath(ember_binary(), REPO)


def make_server(kind=None, workers=1, args=(), **kw):
    """A Server object (not started) for the selected target.  args are
    extra command-line arguments for a managed server."""
    kind = kind or target_kind()
    if kind == "external":
        return ExternalServer(os.environ.get("EMBER_HOST", "127.0.0.1"),
                              int(os.environ.get("EMBER_PORT", "6379")))
    if kind == "redis":
        return RedisServer(args=args, **kw)
    if kind == "ember":
        return EmberServer(workers=workers, args=args, **kw)
    raise HarnessError("unknown server kind %r" % kind)


def start_server(kind=None, workers=1, args=(), timeout=None, **kw):
    """Start (or reach) the selected target and return it, ready."""
    s = make_server(kind, workers=workers, args=args, **kw)
    s.start(timeout=timeout)
    return s


def parse_hostport(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise HarnessError("expected host:port, got %r" % text)
    return host, int(port)


# --------------------------------------------------------------------------
# redis-cli

def redis_cli(host, port, *args, input=None, resp3=False, extra=(),
              timeout=30, check=False, binary=False):
    """Run redis-cli against host:port; returns the CompletedProcess (text
    unless binary=True).  extra goes before the command (e.g. ['--raw'])."""
    exe = os.environ.get("REDIS_CLI") or shutil.which("redis-cli") or \
        "/usr/bin/redis-cli"
    cmd = [exe, "-h", host, "-p", str(port)]
    if resp3:
        cmd.append("-3")
    cmd += list(extra) + [str(a) if not isinstance(a, bytes) else
                          a.decode("utf-8", "surrogateescape") for a in args]
    return subprocess.run(cmd, input=input, capture_output=True,
                          timeout=timeout, check=check, text=not binary)


# --------------------------------------------------------------------------
# unittest glue

import unittest  # noqa: E402  (kept next to its only user)


class ServerTestCase(unittest.TestCase):
    """One server of the selected target per test class (setUpClass), a
    FLUSHALL before each test, clients closed after each test.  A server
    that did not stop cleanly fails the class (tearDownClass raises)."""

    server = None
    server_workers = 1
    server_args = ()
    resp = 2

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(workers=cls.server_workers,
                                  args=cls.server_args)

    @classmethod
    def tearDownClass(cls):
        s, cls.server = cls.server, None
        if s is not None:
            s.stop()

    def setUp(self):
        self.r = self.client(resp=self.resp)
        flush_all(self.r)

    def client(self, resp=2, **kw):
        c = self.server.client(resp=resp, **kw)
        self.addCleanup(c.close)
        return c

    def fresh_server(self, kind=None, **kw):
        """A private server for one test, stopped (and checked) at cleanup;
        skips the test when the target is external and kind is None."""
        if (kind or target_kind()) == "external":
            self.skipTest("needs a server of its own (target is external)")
        s = start_server(kind=kind, **kw)
        self.addCleanup(s.stop)
        return s

    def assertReply(self, reply, expected_type, value=None):
        """Assert the exact Python type (Simple vs bytes...) and value."""
        if type(reply) is not expected_type:
            self.fail("expected %s, got %r" % (expected_type.__name__, reply))
        if value is not None and reply != value:
            self.fail("expected %r, got %r" % (value, reply))


# ---- shards and workers (tests that place keys and connections) ----------

def crc16(data):
    """CRC16-CCITT (XMODEM), as Redis Cluster's key slots use."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xffff
    return crc


def key_shard(key, workers):
    """The shard owning key: Redis Cluster's slot, split evenly, as emberd
    computes it ({hash tags} honoured)."""
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return (crc16(key) & 16383) * workers // 16384


def key_on(shard, prefix, workers):
    """A key named prefix:N owned by shard."""
    for n in range(10000):
        k = b"%s:%d" % (prefix.encode(), n)
        if key_shard(k, workers) == shard:
            return k
    raise AssertionError("no key for shard %d" % shard)


def wait_until(pred, timeout=5.0, step=0.01):
    """Polls pred until it returns something true or timeout passes; its
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


class ShardedTestCase(ServerTestCase):
    """A ServerTestCase whose tests pick connections by the worker that
    serves them (INFO server's ember_worker_id: connections are opened until
    one lands where wanted) and watch INFO blocked_clients.  Against
    redis-server placement is moot and any connection does."""

    server_workers = 2

    def setUp(self):
        super().setUp()
        self.ember = "ember_worker_id" in self.info("server")

    def info(self, section):
        return bytes(self.r.execute("INFO", section)).decode()

    def info_field(self, section, name):
        for line in self.info(section).splitlines():
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
        return None

    def blocked(self):
        return int(self.info_field("clients", "blocked_clients"))

    def wait_blocked(self, n):
        self.assertTrue(wait_until(lambda: self.blocked() == n),
                        "blocked_clients never reached %d (now %d)" % (n, self.blocked()))

    def conn(self, worker, resp=2):
        """A connection served by `worker` (any one against redis)."""
        for _ in range(500):
            c = self.client(resp=resp)
            if not self.ember:
                return c
            text = bytes(c.execute("INFO", "server")).decode()
            wid = [l.split(":")[1].strip() for l in text.splitlines()
                   if l.startswith("ember_worker_id:")][0]
            if int(wid) == worker:
                return c
            c.close()
        self.fail("no connection landed on worker %d" % worker)

    def assert_still_blocked(self, c, wait=0.1):
        c.settimeout(wait)
        with self.assertRaises(socket.timeout):
            c.read()
        c.settimeout(10)
